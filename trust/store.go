package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pdf"
)

var (
	// ErrAlreadyTrusted: every certificate being added is in the store.
	ErrAlreadyTrusted = errors.New("trust: certificate already trusted")
	// ErrNotFound: no certificate in the store has that fingerprint.
	ErrNotFound = errors.New("trust: no trusted certificate with that fingerprint")
	// ErrBadFingerprint: a fingerprint (or prefix) that is not at least
	// MinPrefix hexadecimal digits.
	ErrBadFingerprint = errors.New("trust: not a SHA-256 fingerprint")
	// ErrCorrupt: a file in the store does not hold the one certificate its
	// name says.
	ErrCorrupt = errors.New("trust: store file does not hold the certificate its name says")
)

// MinPrefix is the shortest fingerprint prefix Remove accepts.
const MinPrefix = 4

// AmbiguousError: a fingerprint prefix matches more than one certificate.
type AmbiguousError struct {
	Prefix  string
	Matches []*x509.Certificate
}

func (e *AmbiguousError) Error() string {
	return "trust: fingerprint " + e.Prefix + " matches several certificates"
}

// Store keeps the user's own trusted certificates in a folder: one PEM file
// per certificate, named by its fingerprint (see Fingerprint). Whether the
// user may add certificates at all is the policy's decision, made by the
// caller. Writes are atomic; several processes may use one store.
//
// What it accepts: any certificate that parses, including an expired one
// (a document signed while it was valid must still verify at signing
// time: pdf judges validity periods, not the store) and a certificate
// that is not a CA (a correspondent's self-signed signing certificate, as
// Acrobat lets one trust). What it refuses: files that are not
// certificates, and certificates already there.
type Store struct {
	dir string
}

// NewStore returns the store kept in dir (created on the first Add).
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Add trusts the certificates in the file at path (any form ReadFile reads)
// and returns the ones it added. Certificates already trusted are skipped;
// when none is new the error is ErrAlreadyTrusted. A file that cannot be
// read is a *FileError and adds nothing.
func (s *Store) Add(path string) ([]*x509.Certificate, error) {
	certs, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	var added []*x509.Certificate
	for _, c := range certs {
		switch err := s.AddCertificate(c); {
		case errors.Is(err, ErrAlreadyTrusted):
		case err != nil:
			return added, err
		default:
			added = append(added, c)
		}
	}
	if len(added) == 0 {
		return nil, ErrAlreadyTrusted
	}
	return added, nil
}

// AddCertificate trusts c (for instance a signer's certificate shown in a
// verification report). It is ErrAlreadyTrusted when c is in the store.
func (s *Store) AddCertificate(c *x509.Certificate) error {
	if c == nil || len(c.Raw) == 0 {
		return ErrNotCertificate
	}
	path := s.path(Fingerprint(c))
	if _, err := os.Stat(path); err == nil {
		if held, err := readStoreFile(path); err == nil && held.Equal(c) {
			return ErrAlreadyTrusted
		}
		// A corrupt file under that name: the write below repairs it.
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	return atomicfile.Write(path, data, 0o644)
}

// List returns the trusted certificates ordered by subject. A file of the
// store that cannot be read is reported (joined *FileError) without
// hiding the others.
func (s *Store) List() ([]*x509.Certificate, error) {
	entries, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	var errs []error
	for _, e := range entries {
		fp, ok := strings.CutSuffix(e.Name(), ".pem")
		if !ok || !isFingerprint(fp) {
			continue // temporary files of atomic writes, anything else
		}
		c, err := readStoreFile(filepath.Join(s.dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		certs = append(certs, c)
	}
	sort.Slice(certs, func(i, j int) bool {
		a, b := certs[i].Subject.String(), certs[j].Subject.String()
		if a != b {
			return a < b
		}
		return Fingerprint(certs[i]) < Fingerprint(certs[j])
	})
	return certs, errors.Join(errs...)
}

// Remove stops trusting the certificate whose fingerprint starts with
// prefix (at least MinPrefix hexadecimal digits; case, colons and spaces
// ignored) and returns it. No match is ErrNotFound; several are an
// *AmbiguousError.
func (s *Store) Remove(prefix string) (*x509.Certificate, error) {
	p := normalizeFingerprint(prefix)
	if len(p) < MinPrefix || len(p) > 64 || !isHex(p) {
		return nil, ErrBadFingerprint
	}
	certs, _ := s.List() // a corrupt file must not keep the user from removing others
	var matches []*x509.Certificate
	for _, c := range certs {
		if strings.HasPrefix(Fingerprint(c), p) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		return nil, ErrNotFound
	case 1:
	default:
		return nil, &AmbiguousError{Prefix: p, Matches: matches}
	}
	err := os.Remove(s.path(Fingerprint(matches[0])))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return matches[0], nil
}

// Anchors returns the store's certificates as anchors of source
// pdf.SourceUser, named after their subjects. Unreadable files are
// reported as List does.
func (s *Store) Anchors() ([]pdf.Anchor, error) {
	certs, err := s.List()
	anchors := make([]pdf.Anchor, 0, len(certs))
	for _, c := range certs {
		anchors = append(anchors, pdf.Anchor{Cert: c, Source: pdf.SourceUser, Name: subjectName(c)})
	}
	return anchors, err
}

func (s *Store) path(fp string) string { return filepath.Join(s.dir, fp+".pem") }

// readStoreFile reads a store file, which must hold exactly the
// certificate its name says.
func readStoreFile(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, &FileError{Path: path, Err: err}
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, &FileError{Path: path, Err: ErrCorrupt}
	}
	c, err := pdf.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if want := strings.TrimSuffix(filepath.Base(path), ".pem"); Fingerprint(c) != want {
		return nil, &FileError{Path: path, Err: ErrCorrupt}
	}
	return c, nil
}

// subjectName is a certificate's subject in a few words: its common name,
// else its organisation, else the whole subject.
func subjectName(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return c.Subject.CommonName
	case len(c.Subject.Organization) > 0:
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}

func normalizeFingerprint(s string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
}

func isFingerprint(s string) bool { return len(s) == 64 && isHex(s) }

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
