package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/pdf"
)

// leaf returns a certificate that is no CA, valid from..to.
func leaf(t testing.TB, name string, from, to time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: from, NotAfter: to, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestStore(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(filepath.Join(dir, "trusted"))
	if certs, err := s.List(); err != nil || len(certs) != 0 {
		t.Fatalf("empty store: %v %v", certs, err)
	}
	a, b := newCA(t, "Alpha CA"), newCA(t, "Beta CA")
	// Accepted: an expired certificate (documents signed while it was
	// valid), and a correspondent's own certificate that is no CA.
	expired := leaf(t, "Expired signer", time.Now().AddDate(-3, 0, 0), time.Now().AddDate(-1, 0, 0))

	added, err := s.Add(writeFile(t, dir, "ab.pem", pemOf(b, a)))
	if err != nil || len(added) != 2 {
		t.Fatalf("add: %v %v", added, err)
	}
	if _, err := s.Add(writeFile(t, dir, "a.der", a.Raw)); !errors.Is(err, ErrAlreadyTrusted) {
		t.Errorf("duplicate: %v", err)
	}
	added, err = s.Add(writeFile(t, dir, "a-expired.pem", pemOf(a, expired)))
	if err != nil || len(added) != 1 || !added[0].Equal(expired) {
		t.Errorf("one new of two: %v %v", added, err)
	}
	if _, err := s.Add(writeFile(t, dir, "junk.pem", []byte("junk"))); !errors.Is(err, ErrNotCertificate) {
		t.Errorf("garbage: %v", err)
	}

	certs, err := s.List()
	if err != nil || len(certs) != 3 {
		t.Fatalf("list: %d %v", len(certs), err)
	}
	if certs[0].Subject.CommonName != "Alpha CA" || certs[1].Subject.CommonName != "Beta CA" || certs[2].Subject.CommonName != "Expired signer" {
		t.Errorf("order: %s, %s, %s", certs[0].Subject, certs[1].Subject, certs[2].Subject)
	}
	anchors, err := s.Anchors()
	if err != nil || len(anchors) != 3 || anchors[0].Source != pdf.SourceUser || anchors[0].Name != "Alpha CA" || !anchors[0].Cert.Equal(a) {
		t.Errorf("anchors %+v %v", anchors, err)
	}

	// Remove by a prefix, as a user types it.
	fp := Fingerprint(b)
	var colons []string
	for i := 0; i < 8; i += 2 {
		colons = append(colons, strings.ToUpper(fp[i:i+2]))
	}
	removed, err := s.Remove(strings.Join(colons, ":"))
	if err != nil || !removed.Equal(b) {
		t.Fatalf("remove: %v", err)
	}
	if _, err := s.Remove(fp); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed twice: %v", err)
	}
	for _, bad := range []string{"", "ab", "xyzw", fp + "00"} {
		if _, err := s.Remove(bad); !errors.Is(err, ErrBadFingerprint) {
			t.Errorf("Remove(%q): %v", bad, err)
		}
	}
	if certs, _ := s.List(); len(certs) != 2 {
		t.Errorf("%d left", len(certs))
	}
	if err := s.AddCertificate(b); err != nil {
		t.Errorf("add back: %v", err)
	}
}

func TestStoreAmbiguousPrefix(t *testing.T) {
	s := NewStore(t.TempDir())
	seen := map[string]*x509.Certificate{}
	var pair [2]*x509.Certificate
	for pair[0] == nil {
		c := leaf(t, "signer", time.Now(), time.Now().Add(time.Hour))
		p := Fingerprint(c)[:MinPrefix]
		if d, ok := seen[p]; ok {
			pair = [2]*x509.Certificate{d, c}
		}
		seen[p] = c
	}
	for _, c := range pair {
		if err := s.AddCertificate(c); err != nil {
			t.Fatal(err)
		}
	}
	prefix := Fingerprint(pair[0])[:MinPrefix]
	_, err := s.Remove(prefix)
	var ae *AmbiguousError
	if !errors.As(err, &ae) || len(ae.Matches) != 2 {
		t.Fatalf("%v, want ambiguous", err)
	}
	if certs, _ := s.List(); len(certs) != 2 {
		t.Fatal("an ambiguous prefix removed something")
	}
	if _, err := s.Remove(Fingerprint(pair[1])); err != nil {
		t.Fatal(err)
	}
}

// A damaged file is reported, named, and hides nothing else.
func TestStoreCorruptFile(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir)
	a, b := newCA(t, "A"), newCA(t, "B")
	s.AddCertificate(a)
	s.AddCertificate(b)
	damaged := filepath.Join(dir, Fingerprint(a)+".pem")
	os.WriteFile(damaged, pemOf(b), 0o644) // another certificate under a's name
	writeFile(t, dir, "notes.txt", []byte("ignored"))
	certs, err := s.List()
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != damaged || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v", err)
	}
	if len(certs) != 1 || !certs[0].Equal(b) {
		t.Fatalf("%d certificates", len(certs))
	}
	if _, err := s.Remove(Fingerprint(b)); err != nil {
		t.Fatalf("remove beside a damaged file: %v", err)
	}
	if err := s.AddCertificate(a); err != nil {
		t.Fatalf("re-adding repairs: %v", err)
	}
	if certs, err := s.List(); err != nil || len(certs) != 1 || !certs[0].Equal(a) {
		t.Fatalf("after repair: %v %v", certs, err)
	}
}

// Several processes add to one store while another lists it: no reader
// sees a half-written file, nothing is lost.
func TestStoreConcurrentProcesses(t *testing.T) {
	if dir := os.Getenv("TRUST_STORE_CHILD"); dir != "" {
		s := NewStore(dir)
		for _, f := range strings.Split(os.Getenv("TRUST_STORE_FILES"), ",") {
			if _, err := s.Add(f); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	const procs, each = 3, 15
	var cmds []*exec.Cmd
	var all []*x509.Certificate
	for p := 0; p < procs; p++ {
		var files []string
		for i := 0; i < each; i++ {
			c := leaf(t, fmt.Sprintf("signer %d-%d", p, i), time.Now(), time.Now().Add(time.Hour))
			all = append(all, c)
			files = append(files, writeFile(t, dir, fmt.Sprintf("%d-%d.pem", p, i), pemOf(c)))
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreConcurrentProcesses$")
		cmd.Env = append(os.Environ(), "TRUST_STORE_CHILD="+store, "TRUST_STORE_FILES="+strings.Join(files, ","))
		cmds = append(cmds, cmd)
	}
	s := NewStore(store)
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for _, cmd := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("%v: %s", err, out)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if _, err := s.List(); err != nil {
			t.Fatalf("listing while others write: %v", err)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	certs, err := s.List()
	if err != nil || len(certs) != len(all) {
		t.Fatalf("%d certificates of %d: %v", len(certs), len(all), err)
	}
}
