package bridge_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// authenticate returns a Web eID token whose signature openssl verifies
// over the page's origin and the challenge, and over nothing else.
func TestAuthenticateToken(t *testing.T) {
	testenv.Require(t, "openssl")
	f := newFixture(t, nil)
	f.holder.answer = yes(pin)
	ch := challenge()
	r := f.call(t, portal, http.MethodPost, "/v1/authenticate", bridge.AuthenticateRequest{Challenge: ch, Purpose: "register"})
	var tok map[string]string
	r.decode(t, &tok)
	if r.status != 200 || len(tok) != 5 || tok["format"] != "web-eid:1.0" || tok["algorithm"] != "ES256" ||
		tok["appVersion"] != "https://github.com/paraphe/paraphe/releases/tag/v1.2.3" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	q := f.holder.asked[0]
	if q.Action != bridge.ActionRegister || q.Origin != portal || len(q.Certs) != 1 || q.Certs[0].ID != f.cert.ID {
		t.Fatalf("asked %+v", q)
	}
	cert, _ := base64.StdEncoding.DecodeString(tok["unverifiedCertificate"])
	sig, _ := base64.StdEncoding.DecodeString(tok["signature"])
	if string(cert) != string(f.cert.Chain[0].Raw) || len(sig) != 64 {
		t.Fatalf("certificate or signature: %d bytes", len(sig))
	}
	if err := verifyES256(t, cert, sig, portal, ch); err != nil {
		t.Fatalf("openssl: %v", err)
	}
	for _, other := range [][2]string{{"https://evil.example", ch}, {portal, ch + "x"}, {portal + ch, ""}} {
		if verifyES256(t, cert, sig, other[0], other[1]) == nil {
			t.Errorf("the signature also holds for %q %q", other[0], other[1])
		}
	}
	// Challenges that are no nonce, purposes that are not ours.
	for _, bad := range []bridge.AuthenticateRequest{{Challenge: "short"}, {Challenge: strings.Repeat("A", 129)},
		{Challenge: ch[:40] + "<b>x"}, {Challenge: ch, Purpose: "pay"}} {
		if r := f.call(t, portal, http.MethodPost, "/v1/authenticate", bad); r.code(t) != bridge.CodeBadRequest {
			t.Errorf("%+v: %s", bad, r.body)
		}
	}
	if n := f.holder.questions(); n != 1 {
		t.Fatalf("bad requests reached the holder (%d questions)", n)
	}
}

// The PIN is the holder's: a wrong one says so with the tries left, the
// last one locks the key, and a certificate the page names must exist.
func TestWrongPIN(t *testing.T) {
	f := newFixture(t, func(m map[string]any) {
		m["pin_policy"].(map[string]any)["keychain"].(map[string]any)["max_attempts"] = 3
	})
	f.holder.answer = yes("Wrong-PIN-1!")
	ask := func() reply {
		return f.call(t, portal, http.MethodPost, "/v1/authenticate", bridge.AuthenticateRequest{Challenge: challenge(), Certificate: f.cert.ID})
	}
	for left := 2; left >= 1; left-- {
		r := ask()
		var e struct {
			Error     string
			TriesLeft int `json:"tries_left"`
		}
		r.decode(t, &e)
		if r.status != http.StatusForbidden || e.Error != bridge.CodeWrongPIN || e.TriesLeft != left {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if r := ask(); r.code(t) != bridge.CodeLocked {
		t.Fatalf("third wrong PIN: %s", r.body)
	}
	f.holder.answer = yes(pin)
	if r := ask(); r.code(t) != bridge.CodeLocked {
		t.Fatalf("the right PIN after the lock: %s", r.body)
	}
	if r := f.call(t, portal, http.MethodPost, "/v1/authenticate", bridge.AuthenticateRequest{Challenge: challenge(), Certificate: "0123456789abcdef"}); r.code(t) != bridge.CodeUnknownCertificate {
		t.Fatalf("unknown certificate: %s", r.body)
	}
	// An answer naming a certificate that was not offered signs nothing.
	f.holder.answer = func(bridge.Request) (bridge.Answer, error) {
		return bridge.Answer{Allow: true, Cert: "0123456789abcdef", PIN: []byte(pin)}, nil
	}
	if r := ask(); r.code(t) != bridge.CodeRefused {
		t.Fatalf("a certificate not offered: %s", r.body)
	}
	if strings.Contains(f.log.String(), pin) || strings.Contains(f.log.String(), "Wrong-PIN") {
		t.Fatal("a PIN in the log")
	}
}

// sign returns a detached CMS that openssl verifies over the document
// whose hash the page gave, chained to the CA's root; the holder saw the
// document's name as the page gave it, cleaned.
func TestSign(t *testing.T) {
	testenv.Require(t, "openssl")
	f := newFixture(t, nil)
	f.holder.answer = yes(pin)
	dir := t.TempDir()
	doc := []byte("Offre pour le lot 3\n")
	os.WriteFile(filepath.Join(dir, "doc"), doc, 0o600)
	os.WriteFile(filepath.Join(dir, "root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Root.Raw}), 0o600)
	sum := sha256.Sum256(doc)
	for _, format := range []string{"cades", "pades"} {
		r := f.call(t, portal, http.MethodPost, "/v1/sign", bridge.SignRequest{Hash: base64.StdEncoding.EncodeToString(sum[:]),
			Format: format, Document: "Offre\u202e fdp.exe\n lot 3.pdf"})
		var s bridge.Signature
		r.decode(t, &s)
		if r.status != 200 || s.Format != format {
			t.Fatalf("%d %s", r.status, r.body)
		}
		der, _ := base64.StdEncoding.DecodeString(s.Signature)
		os.WriteFile(filepath.Join(dir, "sig.der"), der, 0o600)
		out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", filepath.Join(dir, "sig.der"), "-content", filepath.Join(dir, "doc"),
			"-binary", "-CAfile", filepath.Join(dir, "root.pem"), "-purpose", "any", "-out", os.DevNull).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification successful") {
			t.Fatalf("%s: openssl cms: %v\n%s", format, err, out)
		}
		attrs, _ := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", filepath.Join(dir, "sig.der")).Output()
		if has := strings.Contains(string(attrs), "signingTime"); has != (format == "cades") {
			t.Errorf("%s: signing time %v", format, has)
		}
	}
	if got := f.holder.asked[0].Document; got != "Offre fdp.exe lot 3.pdf" || f.holder.asked[0].Action != bridge.ActionSign {
		t.Fatalf("the holder saw %q", got)
	}
	for _, bad := range []bridge.SignRequest{{Hash: "AAAA", Format: "pades", Document: "x"}, {Hash: base64.StdEncoding.EncodeToString(sum[:]), Format: "xades", Document: "x"},
		{Hash: base64.StdEncoding.EncodeToString(sum[:]), Format: "pades", Document: "\u202e\n"}, {Hash: base64.StdEncoding.EncodeToString(sum[:]), HashAlgorithm: "SHA-1", Format: "pades", Document: "x"}} {
		if r := f.call(t, portal, http.MethodPost, "/v1/sign", bad); r.code(t) != bridge.CodeBadRequest {
			t.Errorf("%+v: %s", bad, r.body)
		}
	}
}

// A page cannot ask more than AsksPerWindow times a minute, even all at
// once from many requests, and never two questions at a time.
func TestAsksAreLimited(t *testing.T) {
	f := newFixture(t, nil)
	release := make(chan struct{})
	var inside, most int
	var mu sync.Mutex
	f.holder.answer = func(bridge.Request) (bridge.Answer, error) {
		mu.Lock()
		inside++
		most = max(most, inside)
		mu.Unlock()
		<-release
		mu.Lock()
		inside--
		mu.Unlock()
		return bridge.Answer{}, nil
	}
	var wg sync.WaitGroup
	codes := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{}).code(t)
		}()
	}
	// Every request but the one being asked is turned away at once.
	count := map[string]int{}
	for range 19 {
		count[<-codes]++
	}
	close(release)
	wg.Wait()
	count[<-codes]++
	if count[bridge.CodeRefused] != 1 || count[bridge.CodeBusy] != 19 || most != 1 {
		t.Fatalf("20 requests at once: %v, %d questions open at most", count, most)
	}
	f.holder.answer = nil
	for range bridge.AsksPerWindow - 1 {
		if c := f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{}).code(t); c != bridge.CodeRefused {
			t.Fatal(c)
		}
	}
	r := f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{})
	if r.status != http.StatusTooManyRequests || r.code(t) != bridge.CodeRateLimited || r.header.Get("Retry-After") != "60" {
		t.Fatalf("the sixth question in a minute: %d %s %v", r.status, r.body, r.header)
	}
	if n := f.holder.questions(); n != bridge.AsksPerWindow {
		t.Fatalf("%d questions asked", n)
	}
	// Another site is not held back; a minute later the first may ask again.
	if c := f.call(t, "http://localhost:8080", http.MethodPost, "/v1/certificates", struct{}{}).code(t); c != bridge.CodeRefused {
		t.Fatal(c)
	}
	f.clock.add(time.Minute)
	if c := f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{}).code(t); c != bridge.CodeRefused {
		t.Fatalf("a minute later: %s", c)
	}
}

// A key on a token signs through the bridge as a keychain key does.
func TestTokenKey(t *testing.T) {
	testenv.Require(t, "openssl")
	tok := testenv.NewToken(t, "bridge")
	f := newFixture(t, func(m map[string]any) {
		m["pkcs11"] = map[string]any{"module": tok.Module}
	})
	ts, err := pkcs.OpenToken(tok.Module, tok.Label)
	if err != nil {
		t.Fatal(err)
	}
	e := activate(t, f.ca.Authority, ts, testenv.Delegate(), []byte(tok.PIN))
	ts.Close()
	f.holder.answer = func(r bridge.Request) (bridge.Answer, error) {
		for _, c := range r.Certs {
			if c.ID == e.ID {
				return bridge.Answer{Allow: true, Cert: c.ID, PIN: []byte(tok.PIN)}, nil
			}
		}
		return bridge.Answer{}, nil
	}
	ch := challenge()
	r := f.call(t, portal, http.MethodPost, "/v1/authenticate", bridge.AuthenticateRequest{Challenge: ch})
	var token bridge.AuthToken
	r.decode(t, &token)
	if r.status != 200 || len(f.holder.asked[0].Certs) != 2 {
		t.Fatalf("%d %s (%d certificates offered)", r.status, r.body, len(f.holder.asked[0].Certs))
	}
	cert, _ := base64.StdEncoding.DecodeString(token.UnverifiedCertificate)
	sig, _ := base64.StdEncoding.DecodeString(token.Signature)
	if string(cert) != string(e.Chain[0].Raw) {
		t.Fatal("not the token's certificate")
	}
	if err := verifyES256(t, cert, sig, portal, ch); err != nil {
		t.Fatalf("openssl: %v", err)
	}
}
