package portal

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The declaration signed on the portal, as its page does it through the
// bridge, the CMS made here with cms.Builder as the bridge makes it (the
// bridge's own is met in the browser's journey, app/portal_test.go, and
// judged there by openssl).

// signedInAs registers h for a new user of the world's supplier and
// returns a session signed in with it.
func (w *world) signedInAs(t *testing.T, h holder, name, nationalID string) *browser {
	t.Helper()
	b := w.browser(t)
	b.register(t, name, nationalID, false)
	if status, m := b.api(t, "/api/token", map[string]any{"purpose": "register", "token": h.token(w.portal.Origin, b.challenge(t, "register"))}); status != 200 {
		t.Fatalf("register %s: %d %v", name, status, m)
	}
	s := w.browser(t)
	if status, m := s.api(t, "/api/token", map[string]any{"purpose": "signin", "token": h.token(w.portal.Origin, s.challenge(t, "signin"))}); status != 200 {
		t.Fatalf("sign in %s: %d %v", name, status, m)
	}
	return s
}

// cades is h's detached CMS over content, as the bridge's /v1/sign
// (format cades) makes it.
func (w *world) cades(t *testing.T, key *ecdsa.PrivateKey, chain []*x509.Certificate, content []byte) string {
	t.Helper()
	d := sha256.Sum256(content)
	b := &cms.Builder{Key: key, Chain: chain, SigningTime: time.Now()}
	sig, err := b.Sign(d[:])
	if err != nil {
		t.Fatal(err)
	}
	der, err := b.Detached(sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

type prepared struct {
	id      string
	hash    string
	content []byte
}

// prepare has the portal write a declaration and fetches its PDF.
func (b *browser) prepare(t *testing.T) prepared {
	t.Helper()
	status, m := b.api(t, "/api/document", map[string]any{})
	if status != 200 {
		t.Fatalf("prepare: %d %v", status, m)
	}
	d := prepared{id: fmt.Sprint(m["id"]), hash: m["hash"].(string)}
	resp, err := b.c.Get(b.w.srv.URL + "/documents/" + d.id + "/pdf")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	d.content, _ = io.ReadAll(resp.Body)
	if sum := sha256.Sum256(d.content); base64.StdEncoding.EncodeToString(sum[:]) != d.hash || !bytes.HasPrefix(d.content, []byte("%PDF-")) {
		t.Fatalf("the hash given is not the PDF's (%d bytes)", len(d.content))
	}
	if name, _ := m["name"].(string); !strings.HasPrefix(name, "Declaration D-") || !strings.HasSuffix(name, ".pdf") {
		t.Fatalf("document name %q", m["name"])
	}
	return d
}

func (b *browser) submit(t *testing.T, d prepared, sig string) (int, string) {
	t.Helper()
	status, m := b.api(t, "/api/document/"+d.id+"/signature", map[string]string{"signature": sig})
	if status == 200 {
		return status, m["next"].(string)
	}
	return status, errorOf(m)
}

func TestSignDeclaration(t *testing.T) {
	w := newWorld(t)
	marie, paolo := w.holder(t), w.holder(t)
	s := w.signedInAs(t, marie, "Marie Dupont", "CA12345678")
	p := w.signedInAs(t, paolo, "Paolo Neri", "AX9876543")
	chain := func(h holder) []*x509.Certificate { return []*x509.Certificate{h.cert, w.ca.Issuer} }
	d := s.prepare(t)
	// The declaration is a PDF qpdf finds sound, in the page's language,
	// naming the declarant and the supplier.
	testenv.Require(t, "qpdf")
	pdfPath := filepath.Join(t.TempDir(), "declaration.pdf")
	os.WriteFile(pdfPath, d.content, 0o644)
	if out, err := exec.Command("qpdf", "--check", pdfPath).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	other := testenv.StartCA(t, ca.InitOptions{})
	strangerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger := holder{strangerKey, other.Issue(t, strangerKey)}
	unregistered := w.holder(t)
	good := w.cades(t, marie.key, chain(marie), d.content)
	raw, _ := base64.StdEncoding.DecodeString(good)
	raw[len(raw)-1] ^= 1 // the last byte of the signature value
	for _, tt := range []struct{ name, sig, want string }{
		{"not base64", "%%%", "signature_format"},
		{"not CMS", base64.StdEncoding.EncodeToString([]byte("hello")), "signature_format"},
		{"another document", w.cades(t, marie.key, chain(marie), []byte("another PDF")), "signature_document"},
		{"a signature value altered", base64.StdEncoding.EncodeToString(raw), "signature_invalid"},
		{"another CA", w.cades(t, stranger.key, []*x509.Certificate{stranger.cert, other.Issuer}, d.content), "cert_untrusted"},
		{"a certificate not registered", w.cades(t, unregistered.key, chain(unregistered), d.content), "cert_unknown"},
		{"another user's certificate", w.cades(t, paolo.key, chain(paolo), d.content), "cert_not_yours"},
	} {
		if status, got := s.submit(t, d, tt.sig); status == 200 || got != tt.want {
			t.Errorf("%s: %d %s, want %s", tt.name, status, got, tt.want)
		}
	}
	// Another user may neither sign nor see it.
	if status, got := p.submit(t, d, w.cades(t, paolo.key, chain(paolo), d.content)); got != "document_unknown" {
		t.Errorf("another user's session: %d %s", status, got)
	}
	if resp, _ := p.c.Get(w.srv.URL + "/documents/" + d.id + "/pdf"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another user fetches the document: %d", resp.StatusCode)
	}
	if status, next := s.submit(t, d, good); status != 200 || next != "/documents/"+d.id {
		t.Fatalf("the good signature: %d %s", status, next)
	}
	page := s.get(t, "/documents/"+d.id)
	if !strings.Contains(page, `id="document-signer">`+marie.cert.Subject.CommonName+"<") || !strings.Contains(s.get(t, "/account"), `data-document="`+d.id+`"`) {
		t.Fatalf("the signed document's page:\n%s", page)
	}
	resp, _ := s.c.Get(w.srv.URL + "/documents/" + d.id + "/p7s")
	kept, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if base64.StdEncoding.EncodeToString(kept) != good || resp.Header.Get("Content-Type") != "application/pkcs7-signature" {
		t.Fatal("the signature kept is not the one given")
	}
	if status, got := s.submit(t, d, good); got != "document_signed" {
		t.Errorf("signed twice: %d %s", status, got)
	}
	// Revoked by the CA: refused.
	if err := w.ca.Revoke(context.Background(), ca.SerialOf(marie.cert), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	d2 := s.prepare(t)
	if status, got := s.submit(t, d2, w.cades(t, marie.key, chain(marie), d2.content)); got != "cert_revoked_ca" {
		t.Errorf("revoked by the CA: %d %s", status, got)
	}
}

// Ten submissions of one good signature at once: one is kept.
func TestSignRace(t *testing.T) {
	w := newWorld(t)
	marie := w.holder(t)
	s := w.signedInAs(t, marie, "Marie Dupont", "CA12345678")
	d := s.prepare(t)
	sig := w.cades(t, marie.key, []*x509.Certificate{marie.cert, w.ca.Issuer}, d.content)
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := map[string]int{}
	for range 10 {
		wg.Go(func() {
			status, got := s.submit(t, d, sig)
			if status == 200 {
				got = "ok"
			}
			mu.Lock()
			count[got]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if count["ok"] != 1 || count["document_signed"] != 9 {
		t.Fatalf("%v", count)
	}
}
