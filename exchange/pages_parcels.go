package exchange

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// listData is the lists' data.
type listData struct {
	Received, Sent []Parcel
}

func (w *web) parcelsPage(q *request) error {
	received, sent, err := w.x.Parcels(q.ctx(), q.user)
	if err != nil {
		return err
	}
	v := w.view(q, "exchange.parcels.title", listData{received, sent})
	v.Section = "parcels"
	return w.render(q, http.StatusOK, "parcels", v)
}

// parcelData is a parcel's page's.
type parcelData struct {
	P         *Parcel
	Sender    bool // the viewer sent it
	Paragraph []string
}

func (w *web) parcelPage(q *request) error {
	p, err := w.x.Parcel(q.ctx(), q.user, q.r.PathValue("id"), q.remote)
	if err != nil {
		return err
	}
	v := w.view(q, "exchange.parcel.title", parcelData{P: p, Sender: p.Sender.ID == q.user.ID, Paragraph: paragraphs(p.Note)})
	v.Title = p.Title
	v.Section = "parcels"
	switch q.r.URL.Query().Get("notice") {
	case "sent":
		v.Notice = q.p.T("exchange.send.done", "Name", p.Recipient.Name)
	case "sent_unmailed":
		v.Notice = q.p.T("exchange.send.done_unmailed", "Name", p.Recipient.Name)
	}
	return w.render(q, http.StatusOK, "parcel", v)
}

// paragraphs splits a note at its blank lines.
func paragraphs(note string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(note, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (w *web) download(q *request) error { return w.serveDocument(q, false) }

func (w *web) viewDocument(q *request) error { return w.serveDocument(q, true) }

// serveDocument streams a document, decrypted segment by segment: shown
// by the browser (PDFs only), or downloaded.
func (w *web) serveDocument(q *request, inline bool) error {
	action := "downloaded"
	if inline {
		action = "viewed"
	}
	o, err := w.x.OpenDocument(q.ctx(), q.user, q.r.PathValue("id"), q.r.PathValue("doc"), action, q.remote)
	if err != nil {
		return err
	}
	defer o.Close()
	disposition, ctype := "attachment", typeOther
	if inline && o.IsPDF() {
		disposition, ctype = "inline", typePDF
	}
	h := q.w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": o.Name}))
	// A download is never rendered here; a PDF shown is the browser's
	// viewer's, framed by nobody.
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	if inline {
		h.Set("Content-Security-Policy", "default-src 'none'; object-src 'self'; frame-ancestors 'none'")
	}
	w.stream(q.w, o)
	return nil
}

// stream writes a document's plaintext, its length announced: should a
// segment fail to open (a damaged file), the connection is closed short
// and the client calls the download failed, never complete.
func (w *web) stream(rw http.ResponseWriter, o *OpenedDocument) {
	rw.Header().Set("Content-Length", strconv.FormatInt(o.Size, 10))
	if rw.Header().Get("Content-Type") == "" {
		rw.Header().Set("Content-Type", typeOther)
	}
	http.NewResponseController(rw).SetWriteDeadline(time.Time{}) // a large file takes its time
	if _, err := io.Copy(rw, o); err != nil {
		w.x.Log.Error("document not sent whole", "document", o.ID, "err", err.Error())
	}
}

func (w *web) withdraw(q *request) error {
	id := q.r.PathValue("id")
	if err := w.x.Withdraw(q.ctx(), q.user, id, q.remote); err != nil {
		return err
	}
	http.Redirect(q.w, q.r, "/slips/"+id, http.StatusSeeOther)
	return nil
}

func (w *web) slipsPage(q *request) error {
	received, sent, err := w.x.Parcels(q.ctx(), q.user)
	if err != nil {
		return err
	}
	v := w.view(q, "exchange.slips.title", listData{received, sent})
	v.Section = "slips"
	return w.render(q, http.StatusOK, "slips", v)
}

// slipData is a slip's page's.
type slipData struct {
	P      *Parcel
	Events []Event
	Sender bool
}

func (w *web) slipPage(q *request) error {
	p, events, err := w.x.Slip(q.ctx(), q.user, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	v := w.view(q, "exchange.slip.title", slipData{p, events, p.Sender.ID == q.user.ID})
	v.Section = "slips"
	return w.render(q, http.StatusOK, "slip", v)
}

// sendData is the sending form's.
type sendData struct {
	Clients  []User
	Manager  *User // a client's account manager
	Form     Sending
	Days     []int
	MaxBytes int64
}

func (w *web) sendForm(q *request, s Sending) (*view, error) {
	d := sendData{Form: s, MaxBytes: w.x.Config.MaxParcelMiB << 20}
	if d.Form.Days == 0 {
		d.Form.Days = w.x.Config.DefaultExpiryDays
	}
	for _, n := range []int{1, 7, 14, 30, 60, 90, 180, 365} {
		if n <= w.x.Config.MaxExpiryDays {
			d.Days = append(d.Days, n)
		}
	}
	var err error
	if q.user.Kind == Firm {
		d.Clients, err = w.x.Users(q.ctx(), q.user.ID)
	} else if q.user.ManagerID != 0 {
		var m []User
		m, err = w.x.Users(q.ctx(), 0)
		for i := range m {
			if m[i].ID == q.user.ManagerID {
				d.Manager = &m[i]
			}
		}
	}
	v := w.view(q, "exchange.send.title", d)
	v.Section = "send"
	return v, err
}

func (w *web) sendPage(q *request) error {
	v, err := w.sendForm(q, Sending{})
	if err != nil {
		return err
	}
	return w.render(q, http.StatusOK, "send", v)
}

// send receives the sending form, streamed: its fields, then its files,
// each sealed as it arrives; its CSRF token must come first.
func (w *web) send(q *request) error {
	if site := q.r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return errCSRF
	}
	first := func(name, value string) error {
		if name != "csrf" || !w.csrfOK(q.bound, value) {
			return errCSRF
		}
		return nil
	}
	p, mailed, s, err := w.receive(q.ctx(), q.w, q.r, q.user, first, q.remote)
	if msg, ok := sendError(q, err); ok {
		v, ferr := w.sendForm(q, s)
		if ferr != nil {
			return ferr
		}
		v.Error = msg
		return w.render(q, http.StatusBadRequest, "send", v)
	}
	if err != nil {
		return err
	}
	notice := "sent"
	if !mailed {
		notice = "sent_unmailed"
	}
	http.Redirect(q.w, q.r, "/parcels/"+p.ID+"?notice="+notice, http.StatusSeeOther)
	return nil
}

// sendError says what is wrong with a parcel sent, when the sender can
// put it right.
func sendError(q *request, err error) (string, bool) {
	var in *InputError
	switch {
	case errors.As(err, &in):
		return q.p.T("exchange.input." + in.Problem), true
	case errors.Is(err, ErrNoFiles):
		return q.p.T("exchange.send.no_files"), true
	case errors.Is(err, ErrNoManager):
		return q.p.T("exchange.send.no_manager"), true
	case errors.Is(err, ErrTooMany):
		return q.p.T("exchange.send.too_many"), true
	case errors.Is(err, ErrEmailTaken):
		return q.p.T("exchange.input.recipient_unknown"), true
	}
	return "", false
}

// maxField bounds a form field that is not a file.
const maxField = 4 * maxNote

// receive reads a parcel from a multipart body: fields (first checked by
// first, when not nil), then the documents, sealed as they stream in. It
// returns what was filled in, to show the form again.
func (w *web) receive(ctx context.Context, rw http.ResponseWriter, r *http.Request, sender *User, first func(name, value string) error, remote string) (*Parcel, bool, Sending, error) {
	var s Sending
	r.Body = http.MaxBytesReader(rw, r.Body, w.x.Config.MaxParcelMiB<<20+1<<20)
	http.NewResponseController(rw).SetReadDeadline(time.Time{}) // a large upload takes its time
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, false, s, &InputError{"body", "body"}
	}
	var draft *Draft
	defer func() {
		if draft != nil {
			draft.Discard()
		}
	}()
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, s, err
		}
		if part.FileName() == "" && part.FormName() != "document" {
			value, err := io.ReadAll(io.LimitReader(part, maxField))
			if err != nil {
				return nil, false, s, err
			}
			if n == 0 && first != nil {
				if err := first(part.FormName(), string(value)); err != nil {
					return nil, false, s, err
				}
			}
			setField(&s, part.FormName(), string(value))
			continue
		}
		if n == 0 && first != nil {
			return nil, false, s, errCSRF
		}
		if draft == nil {
			if draft, err = w.x.NewDraft(ctx, sender, s); err != nil {
				return nil, false, s, err
			}
		}
		if err := addPart(ctx, draft, part); err != nil {
			return nil, false, s, err
		}
	}
	if draft == nil {
		if first != nil && s == (Sending{}) {
			return nil, false, s, errCSRF
		}
		if draft, err = w.x.NewDraft(ctx, sender, s); err != nil {
			return nil, false, s, err
		}
	}
	p, mailed, err := draft.Send(ctx, remote)
	return p, mailed, s, err
}

// addPart seals one file part; an empty file input sends none.
func addPart(ctx context.Context, d *Draft, part *multipart.Part) error {
	if part.FileName() == "" {
		_, err := io.Copy(io.Discard, io.LimitReader(part, 1))
		return err
	}
	return d.Add(ctx, part.FileName(), part)
}

func setField(s *Sending, name, value string) {
	switch name {
	case "recipient":
		s.Recipient = value
	case "recipient_name":
		s.RecipientName = value
	case "title":
		s.Title = value
	case "note":
		s.Note = value
	case "end_to_end":
		s.EndToEnd = value == "true"
	case "days":
		s.Days, _ = strconv.Atoi(value)
		if s.Days == 0 {
			s.Days = -1 // not a number: refused, not the default
		}
	}
}
