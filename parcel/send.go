package parcel

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"time"

	"github.com/paraphe/paraphe/cms"
)

// Sending is what a parcel carries besides its files.
type Sending struct {
	// Recipient is a user code or e-mail address (a client's parcel goes
	// to their account manager whatever it is); an address no account
	// has gets a new client, named RecipientName, invited by e-mail.
	Recipient     string
	RecipientName string
	Title         string
	Note          string
	Days          int // until expiry; 0: the exchange's default
	// EncryptTo, when not empty, encrypts every file end to end to
	// these certificates (the recipient's, and the sender's own to keep
	// a readable copy): the exchange stores what it cannot read. The
	// caller has judged them (trust, the recipient's address).
	EncryptTo []*x509.Certificate
}

// File is a document to send.
type File struct {
	Name string
	Size int64 // for the limits, checked before anything is sent
	Body io.Reader
}

// Sent is the parcel the exchange made.
type Sent struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	URL       string     `json:"url"`
	Expires   time.Time  `json:"expires"`
	Mailed    bool       `json:"mailed"` // the recipient was told by e-mail
	Recipient Account    `json:"recipient"`
	Documents []Document `json:"documents"`
}

// encryptedSuffix names a file encrypted to its recipient, as S/MIME
// tools expect.
const encryptedSuffix = ".p7m"

// Send uploads a parcel: the fields, then each file as it is read (and
// encrypted, end to end), in one streamed request. Files over the
// exchange's limits are refused before any is sent (ErrTooLarge,
// ErrTooMany).
func (c *Client) Send(ctx context.Context, s Sending, files []File) (*Sent, error) {
	if c.tok == "" {
		return nil, ErrSignedOut
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	switch {
	case c.Limits.MaxBytes > 0 && total > c.Limits.MaxBytes:
		return nil, fmt.Errorf("%w: %d bytes, %d at most", ErrTooLarge, total, c.Limits.MaxBytes)
	case c.Limits.MaxDocuments > 0 && len(files) > c.Limits.MaxDocuments:
		return nil, fmt.Errorf("%w: %d documents, %d at most", ErrTooMany, len(files), c.Limits.MaxDocuments)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { pw.CloseWithError(writeParcel(mw, s, files)) }()
	var out Sent
	err := c.do(ctx, http.MethodPost, "/api/v1/parcels", pr, mw.FormDataContentType(), &out)
	pr.CloseWithError(errors.New("parcel: the request ended"))
	var werr *writeError
	if errors.As(err, &werr) {
		return nil, werr.err // a file that could not be read, or encrypted
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// writeError is a failure to write the body (reading or encrypting a
// file), told apart from the network's.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// writeParcel writes the multipart body: fields first, then the files.
func writeParcel(mw *multipart.Writer, s Sending, files []File) error {
	fields := [][2]string{{"recipient", s.Recipient}, {"recipient_name", s.RecipientName}, {"title", s.Title}, {"note", s.Note}}
	if s.Days != 0 {
		fields = append(fields, [2]string{"days", strconv.Itoa(s.Days)})
	}
	if len(s.EncryptTo) > 0 {
		fields = append(fields, [2]string{"end_to_end", "true"})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	for _, f := range files {
		name, ctype := f.Name, "application/octet-stream"
		if len(s.EncryptTo) > 0 {
			name, ctype = name+encryptedSuffix, "application/pkcs7-mime; smime-type=authEnveloped-data"
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", multipartDisposition(name))
		h.Set("Content-Type", ctype)
		part, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if err := copyFile(part, f, s.EncryptTo); err != nil {
			return &writeError{err}
		}
	}
	return mw.Close()
}

// multipartDisposition is a file part's Content-Disposition, the name
// escaped as mime/multipart does.
func multipartDisposition(name string) string {
	return `form-data; name="document"; filename="` + quoteEscaper(name) + `"`
}

func quoteEscaper(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\\' || r == '"' {
			out = append(out, '\\')
		}
		if r == '\r' || r == '\n' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}

// copyFile writes f's bytes to w, encrypted to recipients when any.
func copyFile(w io.Writer, f File, recipients []*x509.Certificate) error {
	if len(recipients) == 0 {
		_, err := io.Copy(w, f.Body)
		return err
	}
	ew, err := cms.Encrypt(w, recipients...)
	if err != nil {
		return err
	}
	if _, err := io.Copy(ew, f.Body); err != nil {
		return err
	}
	return ew.Close()
}

// Parcel is a parcel as the exchange lists it.
type Parcel struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Note      string     `json:"note"`
	Sender    Account    `json:"sender"`
	Recipient Account    `json:"recipient"`
	Created   time.Time  `json:"created"`
	Expires   time.Time  `json:"expires"`
	Opened    *time.Time `json:"opened"`
	Status    string     `json:"status"` // one of Statuses
	Count     int        `json:"count"`
	Bytes     int64      `json:"bytes"`
	Documents []Document `json:"documents"`
}

// Statuses are a parcel's states, as the exchange says them.
var Statuses = []string{"sent", "opened", "expired", "withdrawn"}

// Document is one file of a parcel.
type Document struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	EndToEnd bool   `json:"end_to_end"`
}

// Parcels lists what the user received and sent, newest first.
func (c *Client) Parcels(ctx context.Context) (received, sent []Parcel, err error) {
	var out struct {
		Received []Parcel `json:"received"`
		Sent     []Parcel `json:"sent"`
	}
	err = c.do(ctx, http.MethodGet, "/api/v1/parcels", nil, "", &out)
	return out.Received, out.Sent, err
}

// Parcel opens a parcel: its note and documents (the recipient's first
// look marks it opened, as on the web).
func (c *Client) Parcel(ctx context.Context, id string) (*Parcel, error) {
	var p Parcel
	if err := c.do(ctx, http.MethodGet, "/api/v1/parcels/"+pathEscape(id), nil, "", &p); err != nil {
		return nil, err
	}
	return &p, nil
}
