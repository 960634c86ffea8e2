package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paraphe/paraphe/exchange/internal/stream"
	"github.com/paraphe/paraphe/internal/atomicfile"
)

// Status is a parcel's state.
type Status = string

// Statuses.
const (
	StatusSent      Status = "sent"
	StatusOpened    Status = "opened"
	StatusExpired   Status = "expired"
	StatusWithdrawn Status = "withdrawn"
)

// Statuses are every status, for the catalogue's tests.
var Statuses = []Status{StatusSent, StatusOpened, StatusExpired, StatusWithdrawn}

// Party is a parcel's sender or recipient.
type Party struct {
	ID    int64  `json:"-"`
	Code  string `json:"code"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Kind  Kind   `json:"kind"`
}

// Parcel is a note and documents sent to one recipient until an expiry.
type Parcel struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Note      string     `json:"note,omitempty"` // only when opened, and until it expires
	Sender    Party      `json:"sender"`
	Recipient Party      `json:"recipient"`
	Created   time.Time  `json:"created"`
	Expires   time.Time  `json:"expires"`
	Opened    *time.Time `json:"opened,omitempty"`
	Status    Status     `json:"status"`
	Destroyed *time.Time `json:"destroyed,omitempty"`
	Documents []Document `json:"documents,omitempty"`
	// Count and Bytes are the number and size of the documents (lists).
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`

	note, key []byte
}

// Available reports whether the note and documents can still be read.
func (p *Parcel) Available() bool { return p.Status == StatusSent || p.Status == StatusOpened }

// Document is one file of a parcel.
type Document struct {
	ID     string `json:"id"`
	Index  int    `json:"-"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
	SHA256 string `json:"sha256"` // of the bytes sent (the ciphertext, end to end)
	// EndToEnd: the sender encrypted it to the recipient's certificate
	// (CMS); the exchange holds it as sent and cannot read it.
	EndToEnd bool `json:"end_to_end,omitempty"`
	// Verdicts are a PDF's signatures judged when it was sent, in each
	// language (empty for a PDF without signatures, nil for another file).
	Verdicts map[string][]Verdict `json:"-"`

	blob string
	key  []byte
}

// IsPDF reports whether the document is shown in the browser.
func (d *Document) IsPDF() bool { return d.Type == typePDF }

// isEnveloped reports whether head, a file's first bytes, opens a CMS
// message encrypted to recipients (AuthEnvelopedData, or EnvelopedData):
// a SEQUENCE, of any length, whose first element is that content type.
func isEnveloped(head []byte) bool {
	if len(head) < 2 || head[0] != 0x30 {
		return false
	}
	rest := head[2:]
	switch l := head[1]; {
	case l == 0x80 || l < 0x80:
	case l <= 0x84 && len(rest) >= int(l&0x7f):
		rest = rest[l&0x7f:]
	default:
		return false
	}
	return bytes.HasPrefix(rest, oidAuthEnveloped) || bytes.HasPrefix(rest, oidEnveloped)
}

// The content types' OIDs as encoded.
var (
	oidAuthEnveloped = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17}
	oidEnveloped     = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03}
)

// Event is a line of a parcel's audit.
type Event struct {
	At       time.Time `json:"at"`
	Who      string    `json:"who"`
	Action   string    `json:"action"` // sent, opened, viewed, downloaded, withdrawn, expired
	Document string    `json:"document,omitempty"`
	Remote   string    `json:"remote,omitempty"`
}

// Errors of the parcels.
var (
	ErrNoParcel   = errors.New("exchange: no such parcel")
	ErrNoDocument = errors.New("exchange: no such document")
	ErrGone       = errors.New("exchange: the parcel has expired or was withdrawn; its documents are destroyed")
	ErrNoManager  = errors.New("exchange: the client has no account manager to send to")
	ErrTooLarge   = errors.New("exchange: the parcel is larger than the exchange accepts")
	ErrNoFiles    = errors.New("exchange: a parcel needs at least one document")
	ErrTooMany    = errors.New("exchange: too many documents in one parcel")
)

const (
	typePDF       = "application/pdf"
	typeOther     = "application/octet-stream"
	typeEnveloped = "application/pkcs7-mime" // encrypted end to end
	maxDocuments  = 50
	maxNote       = 20000
	maxTitle      = 200
	maxName       = 200
	blobExtension = ".sealed"
)

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Sending is what a sender fills in.
type Sending struct {
	// Recipient is a user code or e-mail address (firm senders; a client's
	// parcel goes to their account manager whatever is given). An address
	// no account has gets a client account, managed by the sender, and an
	// invitation.
	Recipient string
	// RecipientName names that new client (the address's local part when
	// empty).
	RecipientName string
	Title         string
	Note          string
	Days          int // until expiry; 0: the exchange's default
	// EndToEnd: every document is encrypted to the recipient (CMS), and
	// stored and served as it came, unread.
	EndToEnd bool
}

// Draft is a parcel being uploaded: its documents are sealed into the
// documents folder as they arrive, and become a parcel only at Send; a
// draft discarded (or a failed one) leaves nothing behind.
type Draft struct {
	x         *Exchange
	sender    *User
	recipient *User    // nil: newClient
	newClient *NewUser // a recipient to create at Send
	// encryptTo is the recipient's certificate an end-to-end parcel's
	// documents must be encrypted to.
	encryptTo *x509.Certificate
	s         Sending
	expires   time.Time
	docs      []Document
	total     int64
	sent      bool
}

// NewDraft checks what sender filled in and names the recipient.
func (x *Exchange) NewDraft(ctx context.Context, sender *User, s Sending) (*Draft, error) {
	s.Title = strings.TrimSpace(s.Title)
	switch {
	case s.Title == "" || utf8.RuneCountInString(s.Title) > maxTitle:
		return nil, &InputError{"title", "title"}
	case utf8.RuneCountInString(s.Note) > maxNote:
		return nil, &InputError{"note", "note"}
	case s.Days == 0:
		s.Days = x.Config.DefaultExpiryDays
	}
	if s.Days < 1 || s.Days > x.Config.MaxExpiryDays {
		return nil, &InputError{"days", "days"}
	}
	d := &Draft{x: x, sender: sender, s: s, expires: x.now().Add(time.Duration(s.Days) * 24 * time.Hour)}
	err := x.withTx(ctx, func(t *tx) error {
		var err error
		d.recipient, d.newClient, err = x.recipientOf(t, sender, s)
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.EndToEnd {
		if d.recipient == nil {
			return nil, &InputError{"end_to_end", "no_certificate"}
		}
		chain, err := x.recipientChain(ctx, d.recipient)
		if err != nil {
			return nil, err
		}
		d.encryptTo = chain[0]
	}
	return d, nil
}

// recipientOf finds who a parcel goes to: a client's account manager; a
// firm sender's choice, or a new client to invite.
func (x *Exchange) recipientOf(t *tx, sender *User, s Sending) (*User, *NewUser, error) {
	if sender.Kind == Client {
		if sender.ManagerID == 0 {
			return nil, nil, ErrNoManager
		}
		m, err := t.userByID(sender.ManagerID)
		return m, nil, err
	}
	login := strings.TrimSpace(s.Recipient)
	if login == "" {
		return nil, nil, &InputError{"recipient", "recipient"}
	}
	r, err := t.byLogin(login)
	switch {
	case err == nil && r.ID == sender.ID:
		return nil, nil, &InputError{"recipient", "self"}
	case err == nil:
		return r, nil, nil
	case !errors.Is(err, ErrNoUser):
		return nil, nil, err
	}
	email := normalizeEmail(login)
	if email == "" {
		return nil, nil, &InputError{"recipient", "recipient_unknown"}
	}
	name := strings.TrimSpace(s.RecipientName)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	return nil, &NewUser{Kind: Client, Email: email, Name: name, Lang: sender.Lang, Manager: sender.Code}, nil
}

// RecipientOf says who a parcel from sender to login would go to, as
// NewDraft would find them: a client's account manager, the account
// login names, or a new client to invite; and their encryption
// certificate.
func (x *Exchange) RecipientOf(ctx context.Context, sender *User, login string) (*RecipientInfo, error) {
	info := &RecipientInfo{}
	err := x.withTx(ctx, func(t *tx) error {
		r, n, err := x.recipientOf(t, sender, Sending{Recipient: login})
		switch {
		case err != nil:
			return err
		case r != nil:
			p := party(r)
			info.Recipient, info.Certificate = &p, r.Certificate()
		default:
			info.New = n.Email
		}
		return nil
	})
	return info, err
}

// Recipient names who the draft goes to.
func (d *Draft) Recipient() string {
	if d.recipient != nil {
		return d.recipient.Name
	}
	return d.newClient.Email
}

// cleanName is a file name fit to show and to offer for download: its
// last element, without control characters, at most maxName long.
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		name = "document"
	}
	if utf8.RuneCountInString(name) > maxName {
		ext := filepath.Ext(name)
		if len(ext) > 10 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:maxName-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// headSize is how much of a document Add keeps to look at: its type, and
// an encrypted one's recipient infos (a few hundred bytes each).
const headSize = 64 << 10

// headWriter keeps the first bytes written through it.
type headWriter struct{ head []byte }

func (h *headWriter) Write(p []byte) (int, error) {
	if n := headSize - len(h.head); n > 0 {
		h.head = append(h.head, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// Add seals the document read from r into the documents folder, with a
// key of its own; a PDF's signatures are then verified, read back through
// the seal.
func (d *Draft) Add(ctx context.Context, name string, r io.Reader) error {
	if len(d.docs) == maxDocuments {
		return ErrTooMany
	}
	doc := Document{ID: newID(), Index: len(d.docs), Name: cleanName(name), blob: newID() + blobExtension}
	key := newKey()
	limit := d.x.Config.MaxParcelMiB<<20 - d.total
	var sum hash.Hash = sha256.New()
	head := &headWriter{}
	path := filepath.Join(d.x.docs, doc.blob)
	err := atomicfile.Create(path, 0o600, func(w io.Writer) error {
		sw, err := stream.NewWriter(key, w)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.MultiWriter(sw, sum, head), io.LimitReader(r, limit+1))
		if err != nil {
			return err
		}
		if n > limit {
			return ErrTooLarge
		}
		doc.Size = n
		return sw.Close()
	})
	if err != nil {
		return err
	}
	doc.SHA256 = hex.EncodeToString(sum.Sum(nil))
	if doc.key, err = d.x.keys.wrap("document", doc.ID, key); err != nil {
		os.Remove(path)
		return err
	}
	doc.Type = typeOther
	switch {
	case d.s.EndToEnd && !isEnveloped(head.head):
		os.Remove(path)
		return &InputError{"document", "not_encrypted"}
	case d.s.EndToEnd:
		if err := checkEncryptedTo(head.head, d.encryptTo); err != nil {
			os.Remove(path)
			return err
		}
		doc.Type, doc.EndToEnd = typeEnveloped, true
	case bytes.HasPrefix(head.head, []byte("%PDF-")) || strings.EqualFold(filepath.Ext(doc.Name), ".pdf"):
		doc.Type = typePDF
		doc.Verdicts = d.x.verify(ctx, path, key, doc.Name)
	}
	d.total += doc.Size
	d.docs = append(d.docs, doc)
	return nil
}

// Discard removes what the draft sealed, unless it was sent.
func (d *Draft) Discard() {
	if d.sent {
		return
	}
	for _, doc := range d.docs {
		os.Remove(filepath.Join(d.x.docs, doc.blob))
	}
	d.docs = nil
}

// Send makes the draft a parcel: recorded (with its recipient, when new)
// in one transaction, then announced to the recipient by e-mail.
func (d *Draft) Send(ctx context.Context, remote string) (*Parcel, bool, error) {
	if len(d.docs) == 0 {
		return nil, false, ErrNoFiles
	}
	x := d.x
	p := &Parcel{ID: newID(), Title: d.s.Title, Created: x.now(), Expires: d.expires, Status: StatusSent, Documents: d.docs}
	key := newKey()
	var link string
	wrapped, err := x.keys.wrap("parcel", p.ID, key)
	if err != nil {
		return nil, false, err
	}
	err = x.withTx(ctx, func(t *tx) error {
		if d.recipient == nil {
			u, l, err := x.addUser(t, *d.newClient)
			if err != nil {
				return err
			}
			d.recipient, link = u, l
		}
		p.Sender, p.Recipient = party(d.sender), party(d.recipient)
		if err := t.insertParcel(p, sealSmall(key, p.ID, []byte(d.s.Note)), wrapped); err != nil {
			return fmt.Errorf("exchange: database: %w", err)
		}
		return t.event(p.Created, d.sender.ID, p.ID, "", "sent", remote)
	})
	if err != nil {
		return nil, false, err
	}
	d.sent = true
	for _, doc := range p.Documents {
		p.Count++
		p.Bytes += doc.Size
	}
	x.Log.Info("parcel sent", "parcel", p.ID, "sender", d.sender.Code, "recipient", d.recipient.Code, "documents", p.Count, "bytes", p.Bytes)
	mailed, err := x.mailParcel(d.recipient, d.sender, p, link)
	if err != nil {
		x.Log.Error("the recipient could not be told by e-mail", "parcel", p.ID, "err", err.Error())
	}
	return p, mailed, nil
}

func party(u *User) Party {
	return Party{ID: u.ID, Code: u.Code, Email: u.Email, Name: u.Name, Kind: u.Kind}
}

// effective sets the status a parcel has now: expired once its time has
// come, even before the sweeper destroys it.
func (x *Exchange) effective(p *Parcel) {
	if p.Available() && !x.now().Before(p.Expires) {
		p.Status = StatusExpired
	}
}

// visible loads a parcel for viewer, who must be its sender or recipient;
// to anyone else it does not exist.
func (x *Exchange) visible(t *tx, viewer *User, id string) (*Parcel, error) {
	p, err := t.parcel(id)
	if err != nil {
		return nil, err
	}
	if p.Sender.ID != viewer.ID && p.Recipient.ID != viewer.ID {
		return nil, ErrNoParcel
	}
	x.effective(p)
	return p, nil
}

// Parcels lists what u received and sent, newest first.
func (x *Exchange) Parcels(ctx context.Context, u *User) (received, sent []Parcel, err error) {
	var all []Parcel
	err = x.withTx(ctx, func(t *tx) (err error) { all, err = t.parcels(u.ID); return err })
	for i := range all {
		p := &all[i]
		x.effective(p)
		p.note, p.key = nil, nil
		if p.Recipient.ID == u.ID {
			received = append(received, *p)
		} else {
			sent = append(sent, *p)
		}
	}
	return received, sent, err
}

// Parcel opens a parcel for viewer: its note, its documents, its expiry.
// The recipient's first look marks it opened, in the audit too.
func (x *Exchange) Parcel(ctx context.Context, viewer *User, id, remote string) (*Parcel, error) {
	var p *Parcel
	err := x.withTx(ctx, func(t *tx) (err error) {
		if p, err = x.visible(t, viewer, id); err != nil {
			return err
		}
		return x.markOpened(t, p, viewer, remote)
	})
	if err != nil {
		return nil, err
	}
	if p.Available() && p.key != nil {
		key, err := x.keys.unwrap("parcel", p.ID, p.key)
		if err != nil {
			return nil, err
		}
		note, err := openSmall(key, p.ID, p.note)
		if err != nil {
			return nil, err
		}
		p.Note = string(note)
	}
	p.note, p.key = nil, nil
	return p, nil
}

func (x *Exchange) markOpened(t *tx, p *Parcel, viewer *User, remote string) error {
	if p.Recipient.ID != viewer.ID || p.Status != StatusSent {
		return nil
	}
	now := x.now()
	ok, err := t.markOpened(p.ID, now)
	if err != nil || !ok {
		return err
	}
	p.Status, p.Opened = StatusOpened, &now
	return t.event(now, viewer.ID, p.ID, "", "opened", remote)
}

// Slip is a parcel's shipping slip: who sent what to whom and when, when
// it was opened, and every opening and download since. Slips outlive the
// documents.
func (x *Exchange) Slip(ctx context.Context, viewer *User, id string) (*Parcel, []Event, error) {
	var p *Parcel
	var events []Event
	err := x.withTx(ctx, func(t *tx) (err error) {
		if p, err = x.visible(t, viewer, id); err != nil {
			return err
		}
		events, err = t.events(id)
		return err
	})
	if p != nil {
		p.note, p.key = nil, nil
	}
	return p, events, err
}

// OpenedDocument is a document being read: its plaintext, authenticated
// segment by segment as it is read.
type OpenedDocument struct {
	Document
	io.Reader
	f *os.File
}

// Close closes the sealed file.
func (o *OpenedDocument) Close() error { return o.f.Close() }

// OpenDocument opens a document of a parcel for viewer; action is what
// the audit records ("viewed", "downloaded").
func (x *Exchange) OpenDocument(ctx context.Context, viewer *User, parcelID, docID, action, remote string) (*OpenedDocument, error) {
	var doc *Document
	err := x.withTx(ctx, func(t *tx) error {
		p, err := x.visible(t, viewer, parcelID)
		if err != nil {
			return err
		}
		for i := range p.Documents {
			if p.Documents[i].ID == docID {
				doc = &p.Documents[i]
			}
		}
		switch {
		case doc == nil:
			return ErrNoDocument
		case !p.Available() || doc.key == nil:
			return ErrGone
		}
		if err := x.markOpened(t, p, viewer, remote); err != nil {
			return err
		}
		return t.event(x.now(), viewer.ID, p.ID, doc.ID, action, remote)
	})
	if err != nil {
		return nil, err
	}
	key, err := x.keys.unwrap("document", doc.ID, doc.key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(x.docs, doc.blob))
	if err != nil {
		return nil, fmt.Errorf("exchange: document %s: %w", doc.ID, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := stream.NewReader(key, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("exchange: document %s: %w", doc.ID, err)
	}
	return &OpenedDocument{Document: *doc, Reader: r, f: f}, nil
}

// Withdraw lets the sender take a parcel back: its documents and keys are
// destroyed now, its slip stays.
func (x *Exchange) Withdraw(ctx context.Context, sender *User, id, remote string) error {
	err := x.withTx(ctx, func(t *tx) error {
		p, err := x.visible(t, sender, id)
		if err != nil {
			return err
		}
		if p.Sender.ID != sender.ID {
			return ErrNoParcel
		}
		if !p.Available() {
			return ErrGone
		}
		if _, err := t.destroyParcel(id, StatusWithdrawn, x.now()); err != nil {
			return err
		}
		return t.event(x.now(), sender.ID, id, "", "withdrawn", remote)
	})
	if err != nil {
		return err
	}
	return x.removeFiles(ctx)
}
