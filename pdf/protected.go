package pdf

import (
	"errors"
	"fmt"
	"io"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Documents protected by the standard security handler (ISO 32000-2 §7.6.4:
// RC4 and AES-128, revisions 2-4; AES-256, revisions 5 and 6) are signed
// as they are: the update is encrypted with the document's own key (its
// strings and streams, object by object; not the signature's /Contents nor
// the cross-reference stream, which the standard leaves in clear) and
// keeps its /Encrypt dictionary and the first half of its /ID, from which
// the key is made. Most are opened by the empty user password: they are
// protected against changes, not against reading, and their permissions
// say whether they may be signed.

// Errors a caller branches on, besides ErrPassword (no password given,
// and the empty one does not open the document) and ErrEncrypted (a
// protection other than the standard security handler).
var (
	ErrWrongPassword = errors.New("pdf: the password given does not open the document")
	ErrPermission    = errors.New("pdf: the document's permissions do not allow signing it")
)

// openFile opens src with password, or with the empty password when that
// one does not open it: in a batch, the password given may be another
// file's. refused says so; the permissions then decide (see allow).
func openFile(src io.ReaderAt, size int64, password []byte) (f *cos.File, refused bool, err error) {
	f, err = cos.OpenDecrypted(src, size, password)
	if errors.Is(err, cos.ErrPassword) && len(password) > 0 {
		if f, err = cos.OpenDecrypted(src, size, nil); err == nil {
			return f, true, nil
		}
		return nil, false, ErrWrongPassword
	}
	if errors.Is(err, cos.ErrPassword) {
		return nil, false, ErrPassword
	}
	return f, false, err
}

// allow checks an encrypted document's permissions (its /P, ISO 32000-2
// §7.6.4.2 table 22) for an update, as Acrobat and DSS read them for
// signing: a new field (a signature or a document time-stamp) needs bit 4
// (modify) and bit 6 (annotations and form fields, which with bit 4
// includes creating fields); filling an existing empty signature field
// needs bit 6 or, from revision 3, bit 9 (fill in form fields, signature
// fields included); a certification also changes the catalog's /Perms,
// which needs bit 4. The owner password lifts them all. Validation data
// (/DSS) comes with the signature it serves.
func (d *document) allow(newField, certify bool) error {
	p, encrypted := d.f.Permissions()
	if !encrypted || p.Owner {
		return nil
	}
	fill := p.Allows(6) || p.Revision >= 3 && p.Allows(9)
	ok := fill
	if newField {
		ok = p.Allows(4) && p.Allows(6)
	}
	if certify {
		ok = ok && p.Allows(4)
	}
	switch {
	case ok:
		return nil
	case d.wrongPassword:
		// The password given was meant to lift the restrictions.
		return ErrWrongPassword
	case newField && fill:
		return fmt.Errorf("%w (P %d): only filling its existing empty signature fields is allowed", ErrPermission, int32(p.P))
	}
	return fmt.Errorf("%w (P %d)", ErrPermission, int32(p.P))
}

// maySign checks the permissions for the signature o describes.
func (d *document) maySign(o Options) error {
	app := d.appearance(o)
	fill := app != nil && app.Field != ""
	if err := d.allow(!fill, o.Certify); err != nil {
		return err
	}
	if o.Level == LevelLTA {
		return d.allow(true, false) // the document time-stamp's field
	}
	return nil
}
