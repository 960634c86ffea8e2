package portal

import (
	"context"

	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// These tests go through the portal's pages and API as its page script
// does, with certificates a real paraphe-ca issued and its real OCSP
// responder; the tokens are made here as the Web eID format describes them
// (the bridge's own are met in the browser's journey, app/portal_test.go).

type world struct {
	ca     *testenv.CA
	portal *Portal
	srv    *httptest.Server
	clock  *testClock
	code   string // the supplier's master code
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	c := testenv.StartCA(t, ca.InitOptions{})
	st, _ := testStore(t)
	w := &world{ca: c, clock: &testClock{t: time.Now()}}
	w.portal = &Portal{Store: st, Trust: pdf.VerifyOptions{Trust: []pdf.Anchor{{Cert: c.Root, Source: pdf.SourcePolicy}}, Online: true},
		Intermediates: []*x509.Certificate{c.Issuer}, Now: w.clock.now}
	h, err := w.portal.Handler()
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(h)
	t.Cleanup(w.srv.Close)
	w.portal.Origin = w.srv.URL
	_, w.code, err = st.AddSupplier(context.Background(), "Bianchi Costruzioni S.r.l.", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// holder is a certificate the CA issued, with its key.
type holder struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func (w *world) holder(t *testing.T) holder {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return holder{key, w.ca.Issue(t, key)}
}

// token is a web-eid:1.0 token: ES256 over SHA-256(origin) ‖
// SHA-256(challenge), r ‖ s.
func (h holder) token(origin, challenge string) json.RawMessage {
	ho, hc := sha256.Sum256([]byte(origin)), sha256.Sum256([]byte(challenge))
	d := sha256.Sum256(append(ho[:], hc[:]...))
	r, s, _ := ecdsa.Sign(rand.Reader, h.key, d[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	data, _ := json.Marshal(map[string]string{"unverifiedCertificate": base64.StdEncoding.EncodeToString(h.cert.Raw),
		"algorithm": "ES256", "signature": base64.StdEncoding.EncodeToString(sig), "format": "web-eid:1.0", "appVersion": "https://example/test"})
	return data
}

// browser is a cookie jar and the session's CSRF token.
type browser struct {
	w    *world
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (w *world) browser(t *testing.T) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{w: w, c: &http.Client{Jar: jar}}
	b.get(t, "/")
	return b
}

func (b *browser) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := b.c.Get(b.w.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return string(body)
}

func (b *browser) form(t *testing.T, path string, v url.Values) string {
	t.Helper()
	v.Set("csrf", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.w.portal.Origin)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func (b *browser) api(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+path, strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.w.portal.Origin)
	req.Header.Set("X-CSRF-Token", b.csrf)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (b *browser) challenge(t *testing.T, purpose string) string {
	t.Helper()
	status, m := b.api(t, "/api/challenge", map[string]string{"purpose": purpose})
	c, _ := m["challenge"].(string)
	if status != 200 || len(c) != 44 {
		t.Fatalf("challenge: %d %v", status, m)
	}
	return c
}

// register goes through the registration pages up to the certificate.
func (b *browser) register(t *testing.T, name, nationalID string, admin bool) {
	t.Helper()
	b.form(t, "/code", url.Values{"code": {strings.ToLower(b.w.code)}})
	v := url.Values{"name": {name}, "national_id": {nationalID}, "email": {"a@example.org"}, "phone": {"+39 02 1234567"}}
	if admin {
		v.Set("admin", "on")
	}
	b.form(t, "/register", v)
}

func errorOf(m map[string]any) string { s, _ := m["error"].(string); return s }

func TestRegisterAddSignInRevoke(t *testing.T) {
	w := newWorld(t)
	marie, luca := w.holder(t), w.holder(t)
	b := w.browser(t)
	b.register(t, "Marie Dupont", "CA 12345 678", true)
	status, m := b.api(t, "/api/token", map[string]any{"purpose": "register", "token": marie.token(w.portal.Origin, b.challenge(t, "register"))})
	if status != 200 || m["next"] != "/done" {
		t.Fatalf("register: %d %v", status, m)
	}
	done := b.get(t, "/done")
	id := regexp.MustCompile(`id="user-id">(U-[0-9A-Z]{4}-[0-9A-Z]{4})<`).FindStringSubmatch(done)
	if id == nil || !strings.Contains(done, `id="is-admin"`) {
		t.Fatalf("done page:\n%s", done)
	}
	// The additional certificate, under the same user ID; a second
	// administrator cannot be.
	b2 := w.browser(t)
	b2.form(t, "/code", url.Values{"code": {w.code}})
	if page := b2.get(t, "/register"); !strings.Contains(page, "already has an administrator") {
		t.Fatal("the register form does not say the supplier has an administrator")
	}
	b2.form(t, "/add", url.Values{"national_id": {"ca12345678"}})
	status, m = b2.api(t, "/api/token", map[string]any{"purpose": "add", "token": luca.token(w.portal.Origin, b2.challenge(t, "add"))})
	if status != 200 || !strings.Contains(b2.get(t, "/done"), id[1]) {
		t.Fatalf("add: %d %v", status, m)
	}
	// Each signs in as the user: the additional certificate acts for the
	// user it was registered under, here the administrator, who sees both
	// and revokes the second, which then cannot sign in.
	for _, h := range []holder{marie, luca} {
		s := w.browser(t)
		status, m = s.api(t, "/api/token", map[string]any{"purpose": "signin", "token": h.token(w.portal.Origin, s.challenge(t, "signin"))})
		if status != 200 || m["next"] != "/account" {
			t.Fatalf("sign in: %d %v", status, m)
		}
		if page := s.get(t, "/account"); !strings.Contains(page, id[1]) || !strings.Contains(page, `id="admin"`) {
			t.Fatalf("account of %s:\n%s", h.cert.Subject.CommonName, page)
		}
		if h == marie {
			b = s
		}
	}
	page := b.get(t, "/account")
	rows := regexp.MustCompile(`data-certificate="(\d+)"`).FindAllStringSubmatch(page, -1)
	if len(rows) != 2 {
		t.Fatalf("the administrator sees %d certificates", len(rows))
	}
	b.form(t, "/account/revoke", url.Values{"certificate": {rows[1][1]}})
	s := w.browser(t)
	if status, m = s.api(t, "/api/token", map[string]any{"purpose": "signin", "token": luca.token(w.portal.Origin, s.challenge(t, "signin"))}); errorOf(m) != "cert_revoked" {
		t.Fatalf("revoked sign-in: %d %v", status, m)
	}
	if !strings.Contains(b.get(t, "/account"), "Revoked") {
		t.Fatal("the revocation is not shown")
	}
	// Another user of the supplier, who asked to be administrator too late,
	// may not revoke.
	paolo := w.holder(t)
	p := w.browser(t)
	p.register(t, "Paolo Neri", "AX9876543", true)
	p.api(t, "/api/token", map[string]any{"purpose": "register", "token": paolo.token(w.portal.Origin, p.challenge(t, "register"))})
	if strings.Contains(p.get(t, "/done"), `id="is-admin"`) {
		t.Fatal("a second administrator")
	}
	p.api(t, "/api/token", map[string]any{"purpose": "signin", "token": paolo.token(w.portal.Origin, p.challenge(t, "signin"))})
	if page := p.get(t, "/account"); strings.Contains(page, `id="admin"`) || !strings.Contains(page, "Paolo Neri") {
		t.Fatalf("%s", page)
	}
	if page := p.form(t, "/account/revoke", url.Values{"certificate": {rows[0][1]}}); !strings.Contains(page, "administrator") {
		t.Fatalf("a user who is not administrator revokes: %s", page)
	}
	if n := strings.Count(b.get(t, "/account"), ">Revoked<"); n != 2 { // in the user's table and the supplier's
		t.Fatalf("%d certificates shown revoked, want the one", n)
	}
}

// A token is used once, for this site, this session, in time, from a CA
// the portal trusts, not revoked.
func TestTokensRefused(t *testing.T) {
	w := newWorld(t)
	marie := w.holder(t)
	b := w.browser(t)
	b.register(t, "Marie Dupont", "CA12345678", false)
	signin := func(b *browser, tok json.RawMessage) string {
		_, m := b.api(t, "/api/token", map[string]any{"purpose": "register", "token": tok})
		return errorOf(m)
	}
	ch := b.challenge(t, "register")
	if e := signin(b, marie.token("https://evil.example", ch)); e != "token_signature" {
		t.Fatalf("another origin: %s", e)
	}
	// The challenge went with that try: the right token now is a replay.
	if e := signin(b, marie.token(w.portal.Origin, ch)); e != "challenge_used" {
		t.Fatalf("after a failed try: %s", e)
	}
	ch = b.challenge(t, "register")
	w.clock.add(6 * time.Minute)
	if e := signin(b, marie.token(w.portal.Origin, ch)); e != "challenge_expired" {
		t.Fatalf("late: %s", e)
	}
	other := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger := holder{key, other.Issue(t, key)}
	if e := signin(b, stranger.token(w.portal.Origin, b.challenge(t, "register"))); e != "cert_untrusted" {
		t.Fatalf("another CA: %s", e)
	}
	if e := signin(b, json.RawMessage(`{"format":"jwt"}`)); e != "challenge_used" {
		// no challenge asked since the last: used
		t.Fatalf("no challenge: %s", e)
	}
	b.challenge(t, "register")
	if e := signin(b, json.RawMessage(`{"format":"jwt"}`)); e != "token_format" {
		t.Fatalf("not a token: %s", e)
	}
	// A token made for one session is no good in another.
	other2 := w.browser(t)
	other2.register(t, "Marie Dupont", "CA12345678", false)
	other2.challenge(t, "register")
	if e := signin(other2, marie.token(w.portal.Origin, b.challenge(t, "register"))); e != "token_signature" {
		t.Fatalf("another session's challenge: %s", e)
	}
	if err := w.ca.Revoke(context.Background(), ca.SerialOf(marie.cert), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if e := signin(b, marie.token(w.portal.Origin, b.challenge(t, "register"))); e != "cert_revoked_ca" {
		t.Fatalf("revoked by the CA: %s", e)
	}
}

// Ten requests racing with one token: one registers, the others are
// replays or come after the registration.
func TestReplayRace(t *testing.T) {
	w := newWorld(t)
	marie := w.holder(t)
	b := w.browser(t)
	b.register(t, "Marie Dupont", "CA12345678", false)
	tok := marie.token(w.portal.Origin, b.challenge(t, "register"))
	var wg sync.WaitGroup
	results := make(chan string, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, m := b.api(t, "/api/token", map[string]any{"purpose": "register", "token": tok})
			if status == 200 {
				results <- "ok"
				return
			}
			results <- errorOf(m)
		}()
	}
	wg.Wait()
	close(results)
	count := map[string]int{}
	for r := range results {
		count[r]++
	}
	// The others come too late: the challenge is used, or the
	// registration is over.
	if count["ok"] != 1 || count["challenge_used"]+count["no_challenge"] != 9 {
		t.Fatalf("%v", count)
	}
}

// Pages refuse posts from other origins and without the session's token.
func TestCSRF(t *testing.T) {
	w := newWorld(t)
	b := w.browser(t)
	for _, tt := range []struct{ origin, csrf string }{{"https://evil.example", b.csrf}, {w.portal.Origin, "forged"}, {"", b.csrf}} {
		req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/api/challenge", strings.NewReader(`{"purpose":"signin"}`))
		req.Header.Set("Origin", tt.origin)
		req.Header.Set("X-CSRF-Token", tt.csrf)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%+v: %d", tt, resp.StatusCode)
		}
	}
	if page := b.form(t, "/code", url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}}); !strings.Contains(page, "No supplier has this master code") {
		t.Fatal("an unknown master code is not said")
	}
}

// Every key the pages use is in the catalogue, in every language.
func TestPagesKeys(t *testing.T) {
	cat, err := i18n.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	var used []string
	for _, name := range append(pageNames, "layout") {
		data, err := os.ReadFile(filepath.Join("pages", name+".html"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(data), -1) {
			used = append(used, m[1])
		}
	}
	for _, mode := range []string{purposeRegister, purposeAdd, purposeSignIn} {
		used = append(used, "portal.certificate.title."+mode, "portal.certificate.text."+mode)
	}
	for _, c := range bridgeCodes {
		used = append(used, "portal.bridge."+c)
	}
	for _, c := range ErrorCodes {
		used = append(used, "portal.err."+c)
	}
	// Said from sign.go.
	for _, k := range []string{"text1", "text2", "supplier", "declarant", "national_id", "user_id", "date", "reference", "file", "asking", "title"} {
		used = append(used, "portal.declaration."+k)
	}
	if len(used) < 60 {
		t.Fatalf("only %d keys found", len(used))
	}
	for _, lang := range []string{"en", "fr", "it"} {
		for _, k := range used {
			if _, ok := cat[lang][k]; !ok {
				t.Errorf("%s: %q is not in the catalogue", lang, k)
			}
		}
	}
}
