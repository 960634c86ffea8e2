package bridge_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// These tests speak HTTP to the bridge as a browser would, with keys in a
// real Secret Service keychain (and a SoftHSM token) holding certificates
// a real paraphe-ca issued; what the bridge signs is checked with openssl.
// The holder is played by a Consenter of the test's: the desktop app's
// dialog is driven in app's tests and the browser's journey in the
// portal's.

func TestMain(m *testing.M) {
	os.Exit(testenv.MainWithSecretService(m))
}

const (
	portal = "https://portal.example"
	pin    = "Sup3r-Secret!"
)

// holder answers the bridge's questions as the test says, and remembers
// them.
type holder struct {
	mu     sync.Mutex
	asked  []bridge.Request
	answer func(bridge.Request) (bridge.Answer, error)
}

func (h *holder) Consent(ctx context.Context, r bridge.Request) (bridge.Answer, error) {
	h.mu.Lock()
	h.asked = append(h.asked, r)
	answer := h.answer
	h.mu.Unlock()
	if answer == nil {
		return bridge.Answer{}, nil
	}
	return answer(r)
}

func (h *holder) questions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.asked)
}

// yes agrees with the first certificate offered and pin.
func yes(pin string) func(bridge.Request) (bridge.Answer, error) {
	return func(r bridge.Request) (bridge.Answer, error) {
		a := bridge.Answer{Allow: true}
		if r.Action.NeedsKey() {
			a.Cert, a.PIN = r.Certs[0].ID, []byte(pin)
		}
		return a, nil
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	url    string
	ca     *testenv.CA
	policy *config.Policy
	holder *holder
	clock  *clock
	log    *testenv.Buffer
	cert   pkcs.Entry // Marie Dupont's, in the keychain
}

// newFixture starts a CA, activates Marie Dupont's certificate in the
// keychain and serves a bridge whose policy lists portal.
func newFixture(t *testing.T, edit func(map[string]any)) *fixture {
	t.Helper()
	testenv.NeedSecretService(t)
	c := testenv.StartCA(t, ca.InitOptions{})
	t.Setenv("PARAPHE_HOME", t.TempDir())
	path := testenv.PolicyWith(t, c.Policy, func(m map[string]any) {
		m["web_origins"] = []any{portal, "http://localhost:8080"}
		if edit != nil {
			edit(m)
		}
	})
	p, err := config.ReadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := local.Keychain(p)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ca: c, policy: p, holder: &holder{}, clock: &clock{t: time.Now()}, log: &testenv.Buffer{}}
	f.cert = activate(t, c.Authority, ks, testenv.Holder(), []byte(pin))
	s := &bridge.Server{Policy: p, Consent: f.holder, Version: "1.2.3", Now: f.clock.Now,
		Log: slog.New(slog.NewJSONHandler(f.log, nil))}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}

func (r reply) code(t *testing.T) string {
	t.Helper()
	var e struct {
		Error     string `json:"error"`
		TriesLeft *int   `json:"tries_left"`
	}
	r.decode(t, &e)
	return e.Error
}

// call sends what a page of origin would: JSON, with its Origin.
func (f *fixture) call(t *testing.T, origin, method, path string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, data}
}

func challenge() string {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Only the origins of the policy get an answer; every other gets a bare
// 403 a page cannot even read, and the holder is not asked.
func TestOnlyListedOriginsAreAnswered(t *testing.T) {
	f := newFixture(t, nil)
	f.holder.answer = yes(pin)
	refused := []struct{ name, origin string }{
		{"another site", "https://evil.example"},
		{"a sub-domain", "https://evil.portal.example"},
		{"the default port written out", "https://portal.example:443"},
		{"http instead of https", "http://portal.example"},
		{"upper case", "https://PORTAL.example"},
		{"a sandboxed frame", "null"},
		{"no origin at all", ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v1/status", "/v1/certificates", "/v1/authenticate", "/v1/sign", "/paraphe-bridge.js", "/nothing"} {
				method := http.MethodPost
				if path == "/v1/status" || path == "/paraphe-bridge.js" {
					method = http.MethodGet
				}
				r := f.call(t, tt.origin, method, path, map[string]any{"challenge": challenge()})
				if r.status != http.StatusForbidden || len(r.body) != 0 || r.header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("%s %s: %d %q, CORS %q", method, path, r.status, r.body, r.header.Get("Access-Control-Allow-Origin"))
				}
				pre := f.call(t, tt.origin, http.MethodOptions, path, nil, "Access-Control-Request-Method", "POST",
					"Access-Control-Request-Private-Network", "true")
				if pre.status != http.StatusForbidden || len(pre.header.Values("Access-Control-Allow-Origin")) != 0 ||
					pre.header.Get("Access-Control-Allow-Private-Network") != "" {
					t.Errorf("preflight %s: %d %v", path, pre.status, pre.header)
				}
			}
		})
	}
	// A page of another name made to resolve to 127.0.0.1 (DNS
	// rebinding) says its own name in Host: refused, from any origin.
	if r := f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{}, "Host", "portal.example:27461"); r.status != http.StatusForbidden || len(r.body) != 0 {
		t.Errorf("rebinding: %d %s", r.status, r.body)
	}
	if n := f.holder.questions(); n != 0 {
		t.Fatalf("the holder was asked %d times for refused origins", n)
	}
	if log := f.log.String(); !strings.Contains(log, `"reason":"origin","origin":"https://evil.example"`) || !strings.Contains(log, `"reason":"host","host":"portal.example:27461"`) {
		t.Fatalf("refusals not logged:\n%s", log)
	}

	// The listed origin: status, the preflight with Private Network
	// Access, the client script.
	r := f.call(t, portal, http.MethodGet, "/v1/status", nil)
	var st bridge.Status
	r.decode(t, &st)
	if r.status != 200 || st.App != "paraphe" || st.Version != "1.2.3" || r.header.Get("Access-Control-Allow-Origin") != portal {
		t.Fatalf("status: %d %+v %v", r.status, st, r.header)
	}
	pre := f.call(t, portal, http.MethodOptions, "/v1/sign", nil, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type", "Access-Control-Request-Private-Network", "true")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != portal ||
		pre.header.Get("Access-Control-Allow-Private-Network") != "true" || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", pre.status, pre.header)
	}
	js := f.call(t, "http://localhost:8080", http.MethodGet, "/paraphe-bridge.js", nil)
	if js.status != 200 || !bytes.Equal(js.body, bridge.Client) || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("client: %d %.80s", js.status, js.body)
	}
}

// The certificates are shown once the holder agrees, and never a key.
func TestCertificates(t *testing.T) {
	f := newFixture(t, nil)
	r := f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{})
	if r.status != http.StatusForbidden || r.code(t) != bridge.CodeRefused {
		t.Fatalf("refused: %d %s", r.status, r.body)
	}
	if f.holder.asked[0].Action != bridge.ActionCertificates || f.holder.asked[0].Origin != portal || len(f.holder.asked[0].Certs) != 1 {
		t.Fatalf("asked: %+v", f.holder.asked[0])
	}
	f.holder.answer = yes("")
	r = f.call(t, portal, http.MethodPost, "/v1/certificates", struct{}{})
	var got bridge.Certificates
	r.decode(t, &got)
	if r.status != 200 || len(got.Certificates) != 1 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	c := got.Certificates[0]
	if c.ID != f.cert.ID || c.Name != "Marie Dupont" || c.Title != "Notaire" || c.MemberNumber != "75-1234" || c.Store != "keychain" ||
		c.Issuer != f.ca.Issuer.Subject.CommonName || !c.NotAfter.Equal(f.cert.Chain[0].NotAfter) {
		t.Fatalf("%+v", c)
	}
	if bytes.Contains(bytes.ToUpper(r.body), []byte("PRIVATE")) {
		t.Fatal("a key in the answer")
	}
	// Unknown fields and a body that is not JSON are bad requests.
	if r := f.call(t, portal, http.MethodPost, "/v1/certificates", map[string]any{"all": true}); r.code(t) != bridge.CodeBadRequest {
		t.Fatalf("%s", r.body)
	}
}

// verifyES256 checks a Web eID ES256 signature over origin and challenge
// with openssl: the signed value is SHA-256(origin) ‖ SHA-256(challenge),
// the signature JWA's r ‖ s.
func verifyES256(t *testing.T, certDER []byte, sig []byte, origin, challenge string) error {
	t.Helper()
	dir := t.TempDir()
	ho, hc := sha256.Sum256([]byte(origin)), sha256.Sum256([]byte(challenge))
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
	os.WriteFile(filepath.Join(dir, "data"), append(ho[:], hc[:]...), 0o600)
	os.WriteFile(filepath.Join(dir, "sig"), der, 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o600)
	pub, err := exec.Command("openssl", "x509", "-in", filepath.Join(dir, "cert.pem"), "-noout", "-pubkey").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "pub.pem"), pub, 0o600)
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"), "-signature", filepath.Join(dir, "sig"), filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		return &verifyError{string(out)}
	}
	return nil
}

type verifyError struct{ out string }

func (e *verifyError) Error() string { return e.out }

// activate leaves in store what activation does: a key behind pin and the
// chain the CA issued for holder h.
func activate(t testing.TB, a *ca.Authority, store pkcs.Store, h ca.Holder, pin []byte) pkcs.Entry {
	t.Helper()
	key, err := store.Generate(pkcs.ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	chain := testenv.IssueTo(t, a, h, key)
	if err := store.SetChain(key.ID, chain); err != nil {
		t.Fatal(err)
	}
	return pkcs.Entry{ID: key.ID, Store: store.Name(), Chain: chain}
}

// A port taken is a BusyError naming its holder: here this process's own
// listener (another user's: cmd/paraphe's bridge-other-user.txtar).
func TestListenBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = bridge.Listen(&config.Policy{BridgePort: l.Addr().(*net.TCPAddr).Port})
	var busy *bridge.BusyError
	if !errors.As(err, &busy) || busy.Addr != l.Addr().String() {
		t.Fatalf("%v", err)
	}
	if runtime.GOOS == "linux" && (!busy.Mine() || busy.OtherUser() || busy.UID != os.Getuid()) {
		t.Fatalf("the holder: uid %d", busy.UID)
	}
}
