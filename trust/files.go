package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/digitorus/pkcs7"

	"github.com/paraphe/paraphe/pdf"
)

// MaxFileSize caps a certificate file or bundle. Adobe's AATL, about a
// hundred roots, is well under 1 MiB as PKCS#7.
const MaxFileSize = 16 << 20

// Extensions a folder's certificate files may have; other files in a folder
// (a README, a backup) are ignored. A file named directly is read whatever
// its name.
var certificateExtensions = []string{".pem", ".crt", ".cer", ".der", ".p7b", ".p7c", ".p7"}

var (
	// ErrNoCertificate: a file holds no certificate at all (an empty PEM
	// file, a PKCS#7 bundle without certificates).
	ErrNoCertificate = errors.New("no certificate in the file")
	// ErrTooLarge: a file or a downloaded list exceeds its size cap.
	ErrTooLarge = errors.New("file too large")
	// ErrNotCertificate: the file is neither PEM, DER nor PKCS#7, or its PEM
	// blocks are not certificates (a private key, a request).
	ErrNotCertificate = errors.New("not a certificate file")
)

// FileError is a certificate file that could not be used: missing,
// unreadable, too large, or not holding certificates.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return "trust: " + e.Path + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// LoadFiles reads the certificates in paths: each a PEM file (any number
// of CERTIFICATE or PKCS7 blocks), a DER certificate, a PKCS#7 certs-only
// bundle in DER or BER (a .p7b from Windows, macOS or Adobe), or a folder
// of such files (not recursive; only files with a certificate extension,
// see certificateExtensions; hidden files are skipped). Every certificate
// becomes an anchor with the given source, named after its file.
//
// A path that cannot be used is a *FileError. The anchors of every file
// that could be read are returned together with the errors of the others
// (joined), so that one bad file in a policy does not drop the rest.
func LoadFiles(source pdf.AnchorSource, paths ...string) ([]pdf.Anchor, error) {
	var anchors []pdf.Anchor
	var errs []error
	for _, p := range paths {
		files, err := expand(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			certs, err := ReadFile(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, c := range certs {
				anchors = append(anchors, pdf.Anchor{Cert: c, Source: source, Name: f})
			}
		}
	}
	return anchors, errors.Join(errs...)
}

// expand lists the certificate files a path names: itself, or a folder's
// certificate files in name order.
func expand(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !slices.Contains(certificateExtensions, strings.ToLower(filepath.Ext(name))) {
			continue
		}
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			files = append(files, filepath.Join(path, name))
		}
	}
	return files, nil
}

// ReadFile returns the certificates in one file, in the formats LoadFiles
// accepts. Errors are *FileError.
func ReadFile(path string) ([]*x509.Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if len(data) > MaxFileSize {
		return nil, &FileError{Path: path, Err: ErrTooLarge}
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	return certs, nil
}

// parseCertificates reads certificates from PEM, DER or PKCS#7 (DER, BER or
// PEM "PKCS7") data.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	if block, _ := pem.Decode(data); block != nil {
		return parsePEM(data)
	}
	if c, err := pdf.ParseCertificate(data); err == nil {
		return []*x509.Certificate{c}, nil
	}
	if p7, err := pkcs7.Parse(data); err == nil {
		if len(p7.Certificates) == 0 {
			return nil, ErrNoCertificate
		}
		return p7.Certificates, nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrNoCertificate
	}
	return nil, ErrNotCertificate
}

func parsePEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			c, err := pdf.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: %w", n, err)
			}
			certs = append(certs, c)
		case "TRUSTED CERTIFICATE":
			// OpenSSL's form: the certificate followed by its trust settings.
			c, err := pdf.ParseCertificate(firstElement(block.Bytes))
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: %w", n, err)
			}
			certs = append(certs, c)
		case "PKCS7", "CMS":
			p7, err := pkcs7.Parse(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d: %w", n, err)
			}
			certs = append(certs, p7.Certificates...)
		default:
			return nil, fmt.Errorf("PEM block %d is a %q: %w", n, block.Type, ErrNotCertificate)
		}
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificate
	}
	return certs, nil
}

// firstElement returns the first DER element of b (b itself if it cannot
// tell).
func firstElement(b []byte) []byte {
	if len(b) < 2 || b[0] != 0x30 {
		return b
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return b
		}
		n = 0
		for _, x := range b[2 : 2+k] {
			n = n<<8 | int(x)
		}
		hdr += k
	}
	if hdr+n > len(b) {
		return b
	}
	return b[:hdr+n]
}

// Fingerprint is a certificate's SHA-256 over its DER bytes, in lowercase
// hexadecimal: how the user store names and removes certificates.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
