package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// bridgeSetup is how bridgeUI opens the app.
type bridgeSetup struct {
	policy  string               // the CA's client policy
	origins []string             // web_origins
	edit    func(map[string]any) // further policy changes
	log     io.Writer            // the bridge's log
	now     func() time.Time     // the app's clock (nil: time.Now)
	taken   bool                 // the policy's port is taken: the app listens on its own
}

// bridgeUI opens the app with its signing bridge on a loopback port of its
// own; it returns the bridge's address.
func bridgeUI(t *testing.T, o bridgeSetup) (*UI, string) {
	t.Helper()
	testenv.NeedSecretService(t)
	t.Setenv("PARAPHE_HOME", t.TempDir())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARAPHE_POLICY", testenv.PolicyWith(t, o.policy, func(m map[string]any) {
		if o.taken {
			m["bridge_port"] = l.Addr().(*net.TCPAddr).Port
		}
		var list []any
		for _, o := range o.origins {
			list = append(list, o)
		}
		m["web_origins"] = list
		if o.edit != nil {
			o.edit(m)
		}
	}))
	t.Setenv("PARAPHE_LANG", "en")
	bo := &BridgeOptions{Listener: l, Log: o.log}
	if o.taken {
		t.Cleanup(func() { l.Close() })
		bo.Listener = nil
	}
	u := New(test.NewTempApp(t), Options{Version: "test", Now: o.now, Bridge: bo})
	drive(u)
	t.Cleanup(u.Close)
	return u, "http://" + l.Addr().String()
}

// activateIn leaves an activated certificate of h in the app's keychain.
func activateIn(t *testing.T, c *testenv.CA, u *UI, h ca.Holder) pkcs.Entry {
	t.Helper()
	pol, _ := u.policy()
	ks, err := local.Keychain(pol)
	if err != nil {
		t.Fatal(err)
	}
	return activateKey(t, c.Authority, ks, h, []byte(testPIN))
}

// post sends a page's request to the bridge in the background.
func post(ctx context.Context, url, origin, path string, body any) <-chan map[string]any {
	out := make(chan map[string]any, 1)
	go func() {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+path, bytes.NewReader(data))
		req.Header.Set("Origin", origin)
		req.Header.Set("Content-Type", "application/json")
		m := map[string]any{}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			m["transport"] = err.Error()
			out <- m
			return
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(&m)
		m["status"] = float64(resp.StatusCode)
		out <- m
	}()
	return out
}

// asked waits for the bridge's next dialog.
func asked(t *testing.T, u *UI) *consentDialog {
	t.Helper()
	var d *consentDialog
	awaiting(u, func() {
		select {
		case d = <-u.web.shown:
		case <-time.After(30 * time.Second):
		}
	})
	if d == nil {
		t.Fatal("no consent dialog")
	}
	return d
}

// replied waits for the bridge's reply to a page's request.
func replied(u *UI, reply <-chan map[string]any) (r map[string]any) {
	awaiting(u, func() { r = <-reply })
	return r
}

// The consent dialog says the site, what it asks and the certificate;
// Allow waits for the PIN; Refuse, closing it and the page going away
// each refuse.
func TestBridgeConsentDialog(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	const site = "https://marches.example.fr"
	log := &testenv.Buffer{}
	u, url := bridgeUI(t, bridgeSetup{policy: c.Policy, origins: []string{site}, log: log})
	cert := activateIn(t, c, u, testenv.Holder())
	challenge := strings.Repeat("Q", 43) + "="

	reply := post(context.Background(), url, site, "/v1/authenticate", bridge.AuthenticateRequest{Challenge: challenge, Purpose: "register"})
	d := asked(t, u)
	got := texts(d.content) + strings.Join(d.certs.Options, "\n") + "\nselected: " + d.certs.Selected
	for _, want := range []string{site, "asks to register your certificate", "selected: Marie Dupont, Notaire (75-1234), this computer's keychain, until", "never in a web page"} {
		if !strings.Contains(got, want) {
			t.Errorf("the dialog does not say %q:\n%s", want, got)
		}
	}
	if !d.allow.Disabled() {
		t.Fatal("Allow is enabled before a PIN is typed")
	}
	test.Type(d.pin, testPIN)
	if d.allow.Disabled() {
		t.Fatal("Allow stays disabled with the PIN typed")
	}
	test.Tap(d.allow)
	if r := replied(u, reply); r["format"] != "web-eid:1.0" || r["algorithm"] != "ES256" {
		t.Fatalf("%v", r)
	}
	if d.pin.Text != "" {
		t.Fatal("the PIN stays in the dialog")
	}

	// Refuse, then the dialog closed another way, then the page gone.
	reply = post(context.Background(), url, site, "/v1/certificates", struct{}{})
	d = asked(t, u)
	if got := texts(d.content); !strings.Contains(got, "asks to see your certificates") || !strings.Contains(got, "Marie Dupont") {
		t.Fatalf("%s", got)
	}
	test.Tap(d.refuse)
	if r := replied(u, reply); r["error"] != bridge.CodeRefused {
		t.Fatalf("%v", r)
	}
	reply = post(context.Background(), url, site, "/v1/sign", bridge.SignRequest{Hash: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", Format: "pades", Document: "Offre lot 3.pdf", Certificate: cert.ID})
	d = asked(t, u)
	if got := texts(d.content); !strings.Contains(got, "asks to sign the document “Offre lot 3.pdf”") {
		t.Fatalf("%s", got)
	}
	test.Type(d.pin, testPIN)
	d.dialog.Hide()
	if r := replied(u, reply); r["error"] != bridge.CodeRefused || d.pin.Text != "" {
		t.Fatalf("%v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reply = post(ctx, url, site, "/v1/authenticate", bridge.AuthenticateRequest{Challenge: challenge})
	d = asked(t, u)
	cancel()
	replied(u, reply)
	u.Close() // waits for the bridge's requests to end
	if top := u.win.Canvas().Overlays().Top(); top != nil {
		t.Fatal("the question stays on screen once the page has gone")
	}
	if strings.Contains(log.String(), testPIN) {
		t.Fatal("the PIN in the bridge's log")
	}
	if !strings.Contains(log.String(), `"outcome":"ok"`) || !strings.Contains(log.String(), `"outcome":"refused"`) {
		t.Fatalf("log:\n%s", log.String())
	}
}

// Without web origins in the policy the bridge would answer no page: the
// app does not start it, and keeps no port.
func TestNoBridgeWithoutOrigins(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u, _ := bridgeUI(t, bridgeSetup{policy: c.Policy})
	if u.web != nil {
		t.Fatal("a bridge runs for no origin")
	}
	if got := u.prefs.bridge.Text; !strings.Contains(got, "lists no web origin") || !strings.Contains(got, "IT department") {
		t.Errorf("Settings say %q", got)
	}
}

// The Settings screen says where the bridge runs, or why it does not: its
// port taken (paraphe bridge, the socket started at login, another
// window), in the words of paraphe bridge's exit 48.
func TestBridgeStatus(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u, url := bridgeUI(t, bridgeSetup{policy: c.Policy, origins: []string{"https://portal.example"}})
	if got := u.prefs.bridge.Text; got != "Running on "+url+", for https://portal.example" {
		t.Errorf("running: %q", got)
	}
	u, addr := bridgeUI(t, bridgeSetup{policy: c.Policy, origins: []string{"https://portal.example"}, taken: true, log: io.Discard})
	if u.web != nil {
		t.Fatal("a bridge runs on a port taken")
	}
	if got := u.prefs.bridge.Text; !strings.Contains(got, strings.TrimPrefix(addr, "http://")+" is taken") || !strings.Contains(got, "paraphe bridge") {
		t.Errorf("port taken: %q", got)
	}
	// A screen built again (another language) says the same.
	if s := newSettingsScreen(u); s.bridge.Text != u.prefs.bridge.Text {
		t.Errorf("rebuilt: %q, was %q", s.bridge.Text, u.prefs.bridge.Text)
	}
}

// The port held by another user's bridge (bridge.BusyError names the
// socket's owner: cmd/paraphe's bridge-other-user.txtar makes one for
// real): the Settings line says whose it is and what IT can do.
func TestBridgeStatusOtherUser(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u, addr := bridgeUI(t, bridgeSetup{policy: c.Policy, origins: []string{"https://portal.example"}, taken: true, log: io.Discard})
	port := strings.TrimPrefix(addr, "http://")
	if busy, ok := u.bridgeErr.(*bridge.BusyError); !ok || !busy.Mine() {
		t.Fatalf("the port this process holds: %#v", u.bridgeErr)
	}
	u.bridgeErr = &bridge.BusyError{Addr: port, UID: os.Getuid() + 1}
	if got := newSettingsScreen(u).bridge.Text; !strings.Contains(got, port+" is held by the bridge of another user") || !strings.Contains(got, "a port of their own") {
		t.Errorf("another user's port: %q", got)
	}
}

// What a later start of Paraphe hands to this one: the window forward,
// the files on the Sign screen.
func TestRaise(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u, _ := bridgeUI(t, bridgeSetup{policy: c.Policy, origins: []string{"https://portal.example"}, log: io.Discard})
	u.win.Hide()
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "offer.pdf")
	if err := os.WriteFile(in, deed, 0o644); err != nil {
		t.Fatal(err)
	}
	// From another goroutine, as the instance's server calls it; it runs
	// while the test's goroutine, the window's, waits.
	done := make(chan struct{})
	go func() { u.Raise([]string{in}); close(done) }()
	awaiting(u, func() { <-done })
	if len(u.signer.files) != 1 || u.signer.files[0].in != in || u.tabs.Selected().Content != u.signer.content {
		t.Fatalf("raised with %s: %d files, the Sign screen in front: %v", in, len(u.signer.files), u.tabs.Selected().Content == u.signer.content)
	}
}

// activateKey leaves in store what activation does: a key behind pin and the
// chain the CA issued for holder h.
func activateKey(t testing.TB, a *ca.Authority, store pkcs.Store, h ca.Holder, pin []byte) pkcs.Entry {
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
