package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"image/png"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/driver/software"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/chromedp/chromedp"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/portal"
)

// The acceptance, in a real headless Chromium (Debian's chromium,
// driven with chromedp) on loopback: the reference portal registers a
// supplier user's certificate through the bridge of this app, the consent
// answered in the app's own dialog with fyne's test driver, the PIN typed
// there; then an additional certificate for the same user ID (another
// holder's: a delegation); then each signs in. A page of another origin gets
// nothing; refusing, a wrong PIN and a replayed token each end with their
// own message on the page; the bridge's token verifies with a verifier
// written here from the Web eID format's description alone. With
// PARAPHE_SCREENSHOTS=DIR the pages and the dialog are photographed there
// (docs/screenshots/portal-*.png).

// journey is everything the browser test runs against.
type journey struct {
	t       *testing.T
	ctx     context.Context // the browser's tab
	u       *UI
	log     *testenv.Buffer // the bridge's
	clock   *movingClock
	ca      *testenv.CA
	portal  string // its origin
	bridge  string // its address
	foreign string // an origin the policy does not list
	code    string // the supplier's master code
	marie   pkcs.Entry
	luca    pkcs.Entry
	shots   string
	store   *portal.Store // the portal's
}

type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// nextMinute lets the bridge's rate limit forget the questions asked.
func (c *movingClock) nextMinute() {
	c.mu.Lock()
	c.t = c.t.Add(time.Minute)
	c.mu.Unlock()
}

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l, "http://" + l.Addr().String()
}

// newJourney starts the CA, the app with its bridge (the portal's origin
// listed), the two certificates, the portal and the browser.
func newJourney(t *testing.T) *journey {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "Debian's chromium is not installed (scripts/deps.sh installs it): the browser journey needs it")
	}
	j := &journey{t: t, log: &testenv.Buffer{}, clock: &movingClock{t: time.Now()}, shots: os.Getenv("PARAPHE_SCREENSHOTS")}
	j.ca = testenv.StartCA(t, ca.InitOptions{})
	lp, origin := listen(t)
	lf, foreign := listen(t)
	j.portal, j.foreign = origin, foreign
	j.u, j.bridge = bridgeUI(t, bridgeSetup{policy: j.ca.Policy, origins: []string{origin}, log: j.log, now: j.clock.Now})
	j.marie = activateIn(t, j.ca, j.u, testenv.Holder())
	// Luca's key is in the keychain too, behind a PIN of his own: a token
	// made in this process after another test's token is gone is not seen
	// by the SoftHSM module that test loaded (bridge.TestTokenKey signs
	// with a token's key through the bridge).
	pol, _ := j.u.policy()
	ks, err := local.Keychain(pol)
	if err != nil {
		t.Fatal(err)
	}
	j.luca = activateKey(t, j.ca.Authority, ks, testenv.Delegate(), []byte(lucaPIN))
	j.u.certsChanged() // the home screen lists them, as after an activation
	j.servePortal(lp)
	go http.Serve(lf, foreignPage(j.bridge))
	t.Cleanup(func() { lf.Close() })
	j.ctx = startChromium(t, chromium)
	return j
}

// servePortal serves paraphe-portal on l, trusting the CA, asking its
// OCSP responder.
func (j *journey) servePortal(l net.Listener) {
	t := j.t
	st, err := portal.OpenStore(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	j.store = st
	_, j.code, err = st.AddSupplier(context.Background(), "Bianchi Costruzioni S.r.l.", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := &portal.Portal{Store: st, Origin: j.portal, BridgeURL: j.bridge, Intermediates: []*x509.Certificate{j.ca.Issuer},
		Trust: pdf.VerifyOptions{Trust: []pdf.Anchor{{Cert: j.ca.Root, Source: pdf.SourcePolicy}}, Online: true}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, l, "", "") }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// startChromium runs a headless Chromium of the test's own.
func startChromium(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1000, 860), chromedp.UserDataDir(t.TempDir()), chromedp.Flag("lang", "en-GB"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelTime)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// do runs the browser's actions; what the page asks of the bridge
// meanwhile reaches the app (awaiting).
func (j *journey) do(actions ...chromedp.Action[chromedp.Void]) {
	j.t.Helper()
	var err error
	awaiting(j.u, func() { err = chromedp.Do(j.ctx, actions...) })
	if err != nil {
		j.t.Fatal(err)
	}
}

func (j *journey) text(sel string) string {
	j.t.Helper()
	var s string
	var err error
	awaiting(j.u, func() { s, err = chromedp.Run(j.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)) })
	if err != nil {
		j.t.Fatalf("%s: %v", sel, err)
	}
	return s
}

// message waits for the page's message and returns it.
func (j *journey) message() string {
	j.t.Helper()
	return j.text("#message.error")
}

// shot photographs the page as docs/screenshots/portal-NAME.png.
func (j *journey) shot(name string) {
	j.t.Helper()
	if j.shots == "" {
		return
	}
	img, err := chromedp.Run(j.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		j.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.shots, "portal-"+name+".png"), img, 0o644); err != nil {
		j.t.Fatal(err)
	}
}

// shotDialog photographs the app's window with the question on it.
func (j *journey) shotDialog(name string) {
	j.t.Helper()
	if j.shots == "" {
		return
	}
	// The test window has no painter: the window and the dialog over it
	// are drawn by fyne's software renderer, in the light theme, then the
	// test theme is back.
	j.u.app.Settings().SetTheme(theme.LightTheme())
	c := software.NewCanvas()
	c.SetContent(j.u.win.Content())
	c.Overlays().Add(j.u.win.Canvas().Overlays().Top())
	c.Resize(j.u.win.Canvas().Size())
	img := c.Capture()
	j.u.app.Settings().SetTheme(test.Theme())
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		j.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(j.shots, "portal-"+name+".png"), b.Bytes(), 0o644); err != nil {
		j.t.Fatal(err)
	}
}

// asked waits for the app's next question; without one, it says what the
// page shows.
func (j *journey) asked() *consentDialog {
	j.t.Helper()
	var d *consentDialog
	awaiting(j.u, func() {
		select {
		case d = <-j.u.web.shown:
		case <-time.After(30 * time.Second):
		}
	})
	if d != nil {
		return d
	}
	page, _ := chromedp.Run(j.ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	j.t.Fatalf("no question in the app; the page shows:\n%s\nthe bridge's log:\n%s", page, j.log.String())
	return nil
}

// allow answers the app's next question: the certificate whose holder is
// named (for a question with a key), the PIN typed, then the button.
func (j *journey) allow(holder, pin string) *consentDialog {
	j.t.Helper()
	d := j.asked()
	if d.certs != nil {
		for _, o := range d.certs.Options {
			if strings.HasPrefix(o, holder+",") {
				d.certs.SetSelected(o)
			}
		}
		if d.certs.Selected == "" {
			j.t.Fatalf("no certificate of %s offered: %v", holder, d.certs.Options)
		}
		test.Type(d.pin, pin)
	}
	test.Tap(d.allow)
	return d
}

// lucaPIN protects the delegate's key.
const lucaPIN = "Alt3r-Secret!"

func TestPortalJourney(t *testing.T) {
	testenv.Slow(t, "the reference portal in Chromium, through the app's bridge")
	j := newJourney(t)
	id := j.registerNew()
	j.clock.nextMinute()
	j.addCertificate(id)
	j.clock.nextMinute()
	j.signIn("Marie Dupont", testPIN, id)
	j.signIn("Luca Bianchi", lucaPIN, id)
	j.clock.nextMinute()
	j.signDeclaration(id)
	j.clock.nextMinute()
	j.refusals()
	j.clock.nextMinute()
	j.foreignOrigin()
	j.verifyToken()
	j.do(chromedp.Navigate(j.portal+"/lang?l=fr&next=/"), chromedp.WaitVisible(chromedp.ID("code")))
	if h := j.text("h1"); h != "Bienvenue" {
		j.t.Fatalf("in French, the home page says %q", h)
	}
	j.shot("15-home-fr")
}

// registerNew: master code, consult, new registration, the form with the
// administrator box, the certificate chosen and the PIN typed in the app.
func (j *journey) registerNew() string {
	j.do(chromedp.Navigate(j.portal), chromedp.WaitVisible(chromedp.ID("code")))
	j.shot("01-home")
	j.do(chromedp.SendKeys(chromedp.ID("code"), strings.ToLower(j.code)), chromedp.Click(chromedp.ID("consult")),
		chromedp.WaitVisible(chromedp.ID("new-registration")))
	j.shot("02-supplier")
	j.do(chromedp.Click(chromedp.ID("new-registration")), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "Marie Dupont"), chromedp.SendKeys(chromedp.ID("national_id"), "CA 12345 678"),
		chromedp.SendKeys(chromedp.ID("email"), "marie.dupont@example.org"), chromedp.SendKeys(chromedp.ID("phone"), "+33 1 23 45 67 89"),
		chromedp.Click(chromedp.ID("admin")))
	j.shot("03-register")
	j.do(chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.ID("choose"), chromedp.NodeEnabled))
	j.shot("04-certificate")
	j.do(chromedp.Click(chromedp.ID("choose")))
	d := j.asked()
	if got := texts(d.content); !strings.Contains(got, j.portal) || !strings.Contains(got, "asks to see your certificates") {
		j.t.Fatalf("the question:\n%s", got)
	}
	j.shotDialog("05-app-show-certificates")
	test.Tap(d.allow)
	j.do(chromedp.WaitVisible(chromedp.CSS(`input[value="` + j.marie.ID + `"]`)))
	if list := j.text("#cert-list"); !strings.Contains(list, "Marie Dupont, Notaire (75-1234)") || !strings.Contains(list, "Luca Bianchi") {
		j.t.Fatalf("the page lists:\n%s", list)
	}
	j.do(chromedp.Click(chromedp.CSS(`input[value="` + j.marie.ID + `"]`)))
	j.shot("06-choose")
	j.do(chromedp.Click(chromedp.ID("use")))
	d = asked(j.t, j.u)
	test.Type(d.pin, testPIN)
	j.shotDialog("07-app-register")
	test.Tap(d.allow)
	j.do(chromedp.WaitVisible(chromedp.ID("user-id")))
	j.shot("08-registered")
	if _, err := chromedp.Run(j.ctx, chromedp.Text(chromedp.ID("is-admin"))); err != nil {
		j.t.Fatal("the first user who asked is not the administrator")
	}
	return j.text("#user-id")
}

// addCertificate: Luca's certificate under the same user ID.
func (j *journey) addCertificate(id string) {
	j.do(chromedp.Navigate(j.portal), chromedp.SendKeys(chromedp.ID("code"), j.code), chromedp.Click(chromedp.ID("consult")),
		chromedp.WaitVisible(chromedp.ID("add-certificate")), chromedp.Click(chromedp.ID("add-certificate")),
		chromedp.WaitVisible(chromedp.ID("national_id")), chromedp.SendKeys(chromedp.ID("national_id"), "ca12345678"))
	j.shot("09-add")
	j.do(chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.ID("choose"), chromedp.NodeEnabled), chromedp.Click(chromedp.ID("choose")))
	j.allow("", "")
	j.do(chromedp.WaitVisible(chromedp.CSS(`input[value="`+j.luca.ID+`"]`)), chromedp.Click(chromedp.CSS(`input[value="`+j.luca.ID+`"]`)),
		chromedp.Click(chromedp.ID("use")))
	j.allow("Luca Bianchi", lucaPIN)
	j.do(chromedp.WaitVisible(chromedp.ID("user-id")))
	if got := j.text("#user-id"); got != id {
		j.t.Fatalf("the additional certificate went to %s, not %s", got, id)
	}
}

// signIn signs in with holder's certificate, chosen in the app, and signs
// out.
func (j *journey) signIn(holder, pin, id string) {
	j.do(chromedp.Navigate(j.portal+"/signin"), chromedp.WaitVisible(chromedp.ID("signin"), chromedp.NodeEnabled), chromedp.Click(chromedp.ID("signin")))
	d := j.allow(holder, pin)
	if len(d.certs.Options) != 2 {
		j.t.Fatalf("sign in offers %v", d.certs.Options)
	}
	j.do(chromedp.WaitVisible(chromedp.ID("account-id")))
	if got := j.text("#account-id"); got != id {
		j.t.Fatalf("%s signed in as %s, not %s", holder, got, id)
	}
	if holder == "Marie Dupont" {
		j.shot("10-account")
	}
	j.do(chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("code")))
}

// signDeclaration: signed in, Marie signs the supplier's declaration,
// the certificate chosen and the PIN typed in the app; the portal keeps the
// PDF and its signature, which openssl, nobody's code here, verifies
// against the CA's certificates.
func (j *journey) signDeclaration(id string) {
	j.do(chromedp.Navigate(j.portal+"/signin"), chromedp.WaitVisible(chromedp.ID("signin"), chromedp.NodeEnabled), chromedp.Click(chromedp.ID("signin")))
	j.allow("Marie Dupont", testPIN)
	j.clock.nextMinute()
	j.do(chromedp.WaitVisible(chromedp.ID("to-declaration")), chromedp.Click(chromedp.ID("to-declaration")),
		chromedp.WaitVisible(chromedp.ID("sign"), chromedp.NodeEnabled))
	if text := j.text("#declaration"); !strings.Contains(text, "Bianchi Costruzioni S.r.l.") || !strings.Contains(text, id) {
		j.t.Fatalf("the declaration says:\n%s", text)
	}
	j.shot("16-declaration")
	j.do(chromedp.Click(chromedp.ID("sign")))
	d := j.asked()
	if got := texts(d.content); !strings.Contains(got, j.portal) || !strings.Contains(got, "Declaration D-") {
		j.t.Fatalf("the question:\n%s", got)
	}
	for _, o := range d.certs.Options {
		if strings.HasPrefix(o, "Marie Dupont,") {
			d.certs.SetSelected(o)
		}
	}
	test.Type(d.pin, testPIN)
	j.shotDialog("17-app-sign")
	test.Tap(d.allow)
	j.do(chromedp.WaitVisible(chromedp.ID("document-signed")))
	if got := j.text("#document-signer"); got != "Marie Dupont" {
		j.t.Fatalf("signed by %q", got)
	}
	j.shot("18-signed")
	ref := j.text("#document-ref")
	j.do(chromedp.Navigate(j.portal+"/lang?l=fr&next=/declaration"), chromedp.WaitVisible(chromedp.ID("sign"), chromedp.NodeEnabled))
	j.shot("19-declaration-fr")
	var n int64
	fmt.Sscanf(ref, "D-%d", &n)
	j.do(chromedp.Navigate(fmt.Sprintf("%s/lang?l=fr&next=/documents/%d", j.portal, n)), chromedp.WaitVisible(chromedp.ID("document-signed")))
	if h := j.text("h1"); h != "Document signé" {
		j.t.Fatalf("in French, the signed document's page says %q", h)
	}
	j.shot("20-signed-fr")
	j.do(chromedp.Navigate(j.portal+"/lang?l=en&next=/account"), chromedp.WaitVisible(chromedp.ID("account-id")),
		chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.ID("code")))
	doc, err := j.store.Document(context.Background(), n)
	if err != nil {
		j.t.Fatal(err)
	}
	j.opensslVerify(doc)
}

// opensslVerify has openssl verify doc's signature over its PDF against
// the CA's certificates, then over a PDF one byte different, which it
// must refuse.
func (j *journey) opensslVerify(doc portal.Document) {
	dir := j.t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			j.t.Fatal(err)
		}
		return p
	}
	var chain bytes.Buffer
	for _, c := range []*x509.Certificate{j.ca.Root, j.ca.Issuer} {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	ca, sig := write("ca.pem", chain.Bytes()), write("declaration.p7s", doc.Signature)
	verify := func(content []byte) (string, error) {
		out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", write("content.pdf", content),
			"-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
		return string(out), err
	}
	if out, err := verify(doc.Content); err != nil || !strings.Contains(out, "Verification successful") {
		j.t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	altered := bytes.Clone(doc.Content)
	altered[len(altered)/2] ^= 1
	if out, err := verify(altered); err == nil {
		j.t.Fatalf("openssl accepts the signature over another PDF:\n%s", out)
	}
}

// refusals: Refuse in the app, a wrong PIN, a token replayed to the
// portal, each said on the page in its own words.
func (j *journey) refusals() {
	j.do(chromedp.Navigate(j.portal+"/signin"), chromedp.WaitVisible(chromedp.ID("signin"), chromedp.NodeEnabled), chromedp.Click(chromedp.ID("signin")))
	d := j.asked()
	j.shotDialog("11-app-signin")
	test.Tap(d.refuse)
	if m := j.message(); !strings.Contains(m, "You refused in Paraphe") {
		j.t.Fatalf("refused: %q", m)
	}
	j.shot("12-refused")
	j.do(chromedp.Click(chromedp.ID("signin")))
	j.allow("Marie Dupont", "Not-the-PIN-1")
	if m := j.message(); !strings.Contains(m, "The PIN was wrong (4 tries left)") {
		j.t.Fatalf("wrong PIN: %q", m)
	}
	j.shot("13-wrong-pin")
	// The page's tokens are kept as they go to the portal, then one is
	// sent again from a new page of the same browser.
	j.do(chromedp.Evaluate[chromedp.Void](`(() => { const keep = ParaphePortal.submit;
		ParaphePortal.submit = t => { sessionStorage.setItem("token", JSON.stringify(t)); return keep(t); }; })()`),
		chromedp.Click(chromedp.ID("signin")))
	j.allow("Marie Dupont", testPIN)
	j.do(chromedp.WaitVisible(chromedp.ID("account-id")), chromedp.Navigate(j.portal+"/signin"), chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.Evaluate[chromedp.Void](`ParaphePortal.submit(JSON.parse(sessionStorage.getItem("token")))`))
	if m := j.message(); !strings.Contains(m, "This request was answered already") {
		j.t.Fatalf("replayed: %q", m)
	}
	j.shot("14-replayed")
}

// foreignPage is a page of an origin the policy does not list, trying
// everything the bridge offers; it says what it got in #result.
func foreignPage(bridge string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><title>elsewhere</title><pre id="result"></pre><script>
const B = %q, out = {};
(async () => {
  for (const [name, path, body] of [["status", "/v1/status"], ["certificates", "/v1/certificates", {}],
      ["authenticate", "/v1/authenticate", {challenge: "%s"}], ["sign", "/v1/sign", {hash: "%s", format: "pades", document: "x.pdf"}]]) {
    try {
      const r = await fetch(B + path, body ? {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)} : {});
      out[name] = "answered " + r.status + " " + await r.text();
    } catch (e) { out[name] = "failed " + e.name; }
  }
  try {
    const r = await fetch(B + "/v1/certificates", {method: "POST", mode: "no-cors", body: "{}"});
    out.nocors = r.type + " " + (await r.text()).length;
  } catch (e) { out.nocors = "failed " + e.name; }
  out.script = await new Promise(res => { const s = document.createElement("script"); s.src = B + "/paraphe-bridge.js";
    s.crossOrigin = "anonymous"; s.onload = () => res("loaded " + typeof ParapheBridge); s.onerror = () => res("refused"); document.head.appendChild(s); });
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script>`, bridge, strings.Repeat("A", 43)+"=", base64.StdEncoding.EncodeToString(make([]byte, 32)))
	})
}

// foreignOrigin: that page gets nothing, the holder is asked nothing, and
// the bridge's log says why.
func (j *journey) foreignOrigin() {
	j.do(chromedp.Navigate(j.foreign), chromedp.WaitVisible(chromedp.CSS(`#result:not(:empty)`)))
	var got map[string]string
	if err := json.Unmarshal([]byte(j.text("#result")), &got); err != nil {
		j.t.Fatal(err)
	}
	for _, k := range []string{"status", "certificates", "authenticate", "sign"} {
		if got[k] != "failed TypeError" {
			j.t.Errorf("%s from %s: %s", k, j.foreign, got[k])
		}
	}
	if got["nocors"] != "opaque 0" || got["script"] != "refused" {
		j.t.Errorf("from %s: %v", j.foreign, got)
	}
	select {
	case d := <-j.u.web.shown:
		j.t.Fatalf("the holder was asked for %s:\n%s", j.foreign, texts(d.content))
	default:
	}
	for _, path := range []string{"/v1/status", "/v1/certificates", "/v1/authenticate", "/v1/sign", "/paraphe-bridge.js"} {
		if want := fmt.Sprintf(`"msg":"refused","reason":"origin","origin":%q,"path":%q`, j.foreign, path); !strings.Contains(j.log.String(), want) {
			j.t.Errorf("the bridge's log does not say %s", want)
		}
	}
}

// verifyToken checks a token the bridge made for the portal's page, with
// nothing but the Web eID format's description: a JSON object of five
// fields; unverifiedCertificate the base64 DER certificate; algorithm a
// JWA name (here ES256: ECDSA P-256 with SHA-256, the signature r ‖ s);
// signature the base64 signature over SHA-256(origin) ‖
// SHA-256(challenge); format "web-eid:1.0"; appVersion a URL.
func (j *journey) verifyToken() {
	j.clock.nextMinute()
	challenge := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))
	j.do(chromedp.Navigate(j.portal+"/signin"), chromedp.WaitVisible(chromedp.ID("signin"), chromedp.NodeEnabled))
	type result struct {
		token string
		err   error
	}
	res := make(chan result, 1)
	go func() {
		s, err := chromedp.Run(j.ctx, chromedp.Evaluate[string](`new ParapheBridge(`+jsString(j.bridge)+`).authenticate(`+jsString(challenge)+
			`, {purpose: "signin"}).then(t => JSON.stringify(t))`, chromedp.EvalAwaitPromise))
		res <- result{s, err}
	}()
	j.allow("Marie Dupont", testPIN)
	var r result
	awaiting(j.u, func() { r = <-res })
	if r.err != nil {
		j.t.Fatal(r.err)
	}
	var tok map[string]string
	if err := json.Unmarshal([]byte(r.token), &tok); err != nil || len(tok) != 5 {
		j.t.Fatalf("not a five-field object: %s", r.token)
	}
	if tok["format"] != "web-eid:1.0" || tok["algorithm"] != "ES256" {
		j.t.Fatalf("%v", tok)
	}
	if u, err := url.Parse(tok["appVersion"]); err != nil || u.Scheme != "https" || u.Host == "" {
		j.t.Fatalf("appVersion %q is not a URL", tok["appVersion"])
	}
	der, err1 := base64.StdEncoding.DecodeString(tok["unverifiedCertificate"])
	sig, err2 := base64.StdEncoding.DecodeString(tok["signature"])
	cert, err3 := x509.ParseCertificate(der)
	if err1 != nil || err2 != nil || err3 != nil || len(sig) != 64 {
		j.t.Fatalf("%v %v %v, %d-byte signature", err1, err2, err3, len(sig))
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(j.ca.Root)
	inter.AddCert(j.ca.Issuer)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		j.t.Fatalf("the certificate: %v", err)
	}
	pub := cert.PublicKey.(*ecdsa.PublicKey)
	holds := func(origin, challenge string) bool {
		ho, hc := sha256.Sum256([]byte(origin)), sha256.Sum256([]byte(challenge))
		d := sha256.Sum256(append(ho[:], hc[:]...))
		return ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	}
	if !holds(j.portal, challenge) {
		j.t.Fatal("the signature does not hold over the page's origin and the challenge")
	}
	if holds(j.foreign, challenge) || holds(j.portal, challenge+"A") {
		j.t.Fatal("the signature holds for another origin or challenge")
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
