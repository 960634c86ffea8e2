package local

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/parcel"
)

// Encrypted is a document of a secure folder, encrypted end to end,
// downloaded but not opened yet: its ciphertext in a temporary file
// beside where it goes, read up to its recipients. The command line and
// the app find the certificate here it is encrypted to (RecipientCert),
// open its key (asking for the PIN their own way), then Decrypt.
type Encrypted struct {
	f *os.File
	e *cms.EnvelopedReader
}

// DownloadEncrypted downloads document d of the folder parcelID into a
// temporary file in dir.
func DownloadEncrypted(ctx context.Context, c *parcel.Client, parcelID string, d parcel.Document, dir string) (*Encrypted, error) {
	f, err := os.CreateTemp(dir, ".paraphe-*.p7m")
	if err != nil {
		return nil, err
	}
	enc := &Encrypted{f: f}
	if err := c.Download(ctx, parcelID, d, f); err != nil {
		enc.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		enc.Close()
		return nil, err
	}
	if enc.e, err = cms.ReadEnveloped(f); err != nil {
		enc.Close()
		return nil, err
	}
	return enc, nil
}

// Recipients are the certificates it is encrypted to.
func (e *Encrypted) Recipients() []cms.RecipientID { return e.e.Recipients() }

// Decrypt writes the content to w, decrypted with key, the private key
// of cert (a crypto.Decrypter for RSA, a cms.KeyAgreer for EC); it is
// authenticated only when Decrypt returns nil: write it somewhere
// provisional (atomicfile) until then.
func (e *Encrypted) Decrypt(cert *x509.Certificate, key any, w io.Writer) error {
	if err := e.e.Open(cert, key); err != nil {
		return err
	}
	_, err := io.Copy(w, e.e) // io.EOF only once the tag is checked
	return err
}

// Close removes the downloaded ciphertext.
func (e *Encrypted) Close() error {
	e.f.Close()
	return os.Remove(e.f.Name())
}

// RecipientCert is the first of certs that one of ids names (only the
// one whose ID is only, when only is not empty); cms.ErrNotRecipient when
// none is.
func RecipientCert(certs []Cert, ids []cms.RecipientID, only string) (Cert, error) {
	for _, c := range certs {
		if only != "" && c.ID != only {
			continue
		}
		for _, id := range ids {
			if id.Matches(c.Certificate()) {
				return c, nil
			}
		}
	}
	return Cert{}, fmt.Errorf("%w: none of this computer's certificates", cms.ErrNotRecipient)
}

// ReceivedName is the file name a received document is saved under: its
// base name, without the .p7m an encrypted one carries; its ID when the
// name is none.
func ReceivedName(d parcel.Document) string {
	name := filepath.Base(d.Name)
	if d.EndToEnd {
		name = strings.TrimSuffix(name, ".p7m")
	}
	if name == "." || name == ".." || name == "" || name == string(filepath.Separator) {
		return d.ID
	}
	return name
}
