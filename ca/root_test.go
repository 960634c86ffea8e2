package ca

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func crlOf(t *testing.T, a *Authority) *x509.RevocationList {
	t.Helper()
	l, err := a.RootCRLInfo()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CheckSignatureFrom(a.Root); err != nil {
		t.Fatalf("root CRL signature: %v", err)
	}
	return l
}

func TestRootOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	rootDir := filepath.Join(t.TempDir(), "root")
	if err := Init(dir, InitOptions{RootDir: rootDir, RootCRLDays: 30, Database: testDatabase(t)}); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if p := a.RootKeyInFolder(); p != "" {
		t.Fatalf("root key in the CA folder: %s", p)
	}
	first := crlOf(t, a)
	if d := time.Until(first.NextUpdate); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Fatalf("root CRL signed %v ahead, want 30 days", d)
	}
	serial := rootIssued(t, a)
	revokeWithTheRoot(t, a, dir, rootDir, serial[RoleTSA], first)
	renewTSAWithTheRoot(t, a, dir, serial[RoleTSA])
	// Init never overwrites a root key.
	if err := Init(filepath.Join(t.TempDir(), "ca"), InitOptions{RootDir: rootDir}); !errors.Is(err, ErrRootExists) {
		t.Fatalf("init over a root folder: %v", err)
	}
}

// rootIssued checks what a new CA's root issued (the issuing CA, the TLS
// and TSA certificates, current and not revoked) and returns their
// serials by role.
func rootIssued(t *testing.T, a *Authority) map[string]string {
	t.Helper()
	certs, err := a.ListAuthority(context.Background())
	if err != nil || len(certs) != 3 {
		t.Fatalf("root-issued certificates: %+v %v", certs, err)
	}
	serial := map[string]string{}
	for _, c := range certs {
		if !c.Current || c.Revoked != nil {
			t.Errorf("%+v", c)
		}
		serial[c.Role] = c.Serial
	}
	if serial[RoleTSA] != SerialOf(a.tsaCert) || serial[RoleIssuing] != SerialOf(a.Issuer) || serial[RoleTLS] != SerialOf(a.TLS.Leaf) {
		t.Fatalf("serials %v", serial)
	}
	return serial
}

// revokeWithTheRoot revokes the TSA certificate tsa: refused without the
// root, with another CA's root, and from the CA folder; done with the
// CA's own root, in a root CRL numbered after first.
func revokeWithTheRoot(t *testing.T, a *Authority, dir, rootDir, tsa string, first *x509.RevocationList) {
	t.Helper()
	if err := a.Revoke(context.Background(), tsa, "keyCompromise"); !errors.Is(err, ErrNeedRoot) {
		t.Fatalf("revoke without the root: %v", err)
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := Init(filepath.Join(t.TempDir(), "ca"), InitOptions{RootDir: other}); err != nil {
		t.Fatal(err)
	}
	wrong, _ := OpenRoot(other)
	if err := a.UseRoot(wrong); !errors.Is(err, ErrWrongRoot) {
		t.Fatalf("another CA's root: %v", err)
	}
	if _, err := OpenRoot(dir); !errors.Is(err, ErrNoRoot) {
		t.Fatalf("the CA folder as root folder: %v", err)
	}
	r, err := OpenRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.UseRoot(r); err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(context.Background(), tsa, "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	l := crlOf(t, a)
	if len(l.RevokedCertificateEntries) != 1 || SerialOf(&x509.Certificate{SerialNumber: l.RevokedCertificateEntries[0].SerialNumber}) != tsa ||
		l.Number.Cmp(first.Number) <= 0 {
		t.Fatalf("root CRL after revoking the TSA: %+v", l)
	}
	if err := a.Revoke(context.Background(), tsa, "keyCompromise"); !errors.Is(err, ErrAlreadyRevoked) {
		t.Fatalf("revoke twice: %v", err)
	}
	// Signed twice in a second, the numbers still grow.
	again, err := a.SignRootCRL(context.Background())
	if err != nil || again.Number.Cmp(l.Number) <= 0 || len(again.RevokedCertificateEntries) != 1 {
		t.Fatalf("root crl: %+v %v", again, err)
	}
}

// renewTSAWithTheRoot gives the CA (which holds its root) a new TSA
// certificate in place of old: recorded, in the folder, used once the CA
// is opened again, which then cannot renew without the root.
func renewTSAWithTheRoot(t *testing.T, a *Authority, dir, old string) {
	t.Helper()
	renewed, cert, err := a.RenewServiceCert(context.Background(), RoleTSA)
	if err != nil || renewed != old {
		t.Fatalf("renew tsa: %s %v", renewed, err)
	}
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.tsaCert.Equal(cert) {
		t.Fatal("the reopened CA does not use the new TSA certificate")
	}
	if err := cert.CheckSignatureFrom(a.Root); err != nil {
		t.Fatal(err)
	}
	certs, _ := b.ListAuthority(context.Background())
	current := 0
	for _, c := range certs {
		if c.Role == RoleTSA && c.Current {
			current++
		}
	}
	if len(certs) != 4 || current != 1 {
		t.Fatalf("after renewing the TSA: %+v", certs)
	}
	if _, _, err := b.RenewServiceCert(context.Background(), RoleTLS); !errors.Is(err, ErrNeedRoot) {
		t.Fatalf("renew without the root: %v", err)
	}
}

// lockedBuffer is a log the server writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The server serves the root CRL file as it is, and says in its log when
// the file is about to expire.
func TestServeRootCRLFromTheFile(t *testing.T) {
	a := newCA(t, InitOptions{RootCRLDays: 3})
	var log lockedBuffer
	_, vaddr := serveCAWithLog(t, a, slog.New(slog.NewJSONHandler(&log, nil)))
	resp, err := testClient(a).Get("http://" + vaddr + "/crl/root.crl")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	file, _ := os.ReadFile(filepath.Join(a.Dir, fileRootCRL))
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, file) {
		t.Fatalf("root CRL served: %s, %d bytes, file %d", resp.Status, len(body), len(file))
	}
	// Logged before the server accepts its first connection.
	if !strings.Contains(log.String(), "the root CRL expires soon") {
		t.Fatalf("log:\n%s", log.String())
	}
}
