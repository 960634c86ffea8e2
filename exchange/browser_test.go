package exchange

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The browser tests drive Debian's chromium, headless, through chromedp
// against the exchange on loopback. PARAPHE_SHOTS=DIR saves a PNG of
// every page they pass (docs/screenshots/exchange-*.png come from there).

// served is a fixture whose exchange listens on loopback, with its public
// URL that address (so that the e-mails' links lead to it).
func served(t *testing.T, o InitOptions) (*fixture, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.URL = "http://" + l.Addr().String()
	f := newFixture(t, o)
	srv := &http.Server{Handler: f.x.Handler()}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f, o.URL
}

// page is one browser tab.
type page struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func newPage(t *testing.T, base string) *page {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed: apt-get install chromium (scripts/deps.sh does)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1100, 860), chromedp.Flag("lang", "en-GB"), chromedp.Flag("accept-lang", "en-GB,en"))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first action starts the browser, for as long as bctx lives; the
	// others are bounded.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel3 := context.WithTimeout(bctx, 4*time.Minute)
	t.Cleanup(cancel3)
	return &page{t: t, ctx: ctx, base: base, shots: os.Getenv("PARAPHE_SHOTS")}
}

func (p *page) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatal(err)
	}
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// open goes to path and waits for the page named name (main#page-NAME).
func (p *page) open(path, name string) {
	p.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = p.base + path
	}
	p.run(chromedp.Navigate(path), chromedp.WaitVisible(css("main#page-"+name)))
}

// submit clicks sel and waits for the page named name: a new one (the
// one it leaves is marked stale), even when it is the same page again.
func (p *page) submit(sel, name string) {
	p.t.Helper()
	js[bool](p, `document.documentElement.dataset.stale = "1"; true`)
	p.run(chromedp.Click(css(sel)), chromedp.WaitVisible(css("html:not([data-stale]) main#page-"+name)))
}

func (p *page) fill(sel, text string) {
	p.t.Helper()
	js[bool](p, fmt.Sprintf(`document.querySelector(%q).value = ""; true`, sel))
	p.run(chromedp.SendKeys(css(sel), text))
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(css(sel)))
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *page) attr(sel, name string) string {
	p.t.Helper()
	a, err := chromedp.Run(p.ctx, chromedp.AttributeValue(css(sel), name))
	if err != nil || !a.Exists {
		p.t.Fatalf("%s has no %s: %v", sel, name, err)
	}
	return a.Value
}

// contains fails unless the element sel shows want.
func (p *page) contains(sel, want string) {
	p.t.Helper()
	if got := p.text(sel); !strings.Contains(got, want) {
		p.t.Fatalf("%s shows %q, want %q", sel, got, want)
	}
}

// js runs a script in the page (awaiting its promise) for its value.
func js[T any](p *page, script string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

// shot saves the page as docs/screenshots would show it.
func (p *page) shot(name string) {
	p.t.Helper()
	if p.shots == "" {
		return
	}
	buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.shots, "exchange-"+name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) signIn(login, password, next string) {
	p.t.Helper()
	p.open("/login", "login")
	p.fill("#login", login)
	p.fill("#password", password)
	p.submit("#login-form button[type=submit]", next)
}

func (p *page) signOut() {
	p.t.Helper()
	p.submit("#logout", "login")
	p.contains("p.notice", "You are signed out")
}

// download clicks sel and returns the bytes the browser saved.
func (p *page) download(sel string) []byte {
	p.t.Helper()
	dir := p.t.TempDir()
	progress := chromedp.Events(p.ctx, browser.DownloadProgress)
	p.run(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		yes := true
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
		return err
	}), chromedp.Click(css(sel)))
	for ev, err := range progress {
		if err != nil {
			p.t.Fatal(err)
		}
		switch ev.State {
		case browser.DownloadProgressStateInProgress:
			continue
		case browser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				p.t.Fatal(err)
			}
			return data
		}
		p.t.Fatalf("download %s", ev.State)
	}
	p.t.Fatal("the download did not end")
	return nil
}

// setPassword follows an invitation link and sets password, after the
// page refused what breaks the rules: in the browser (the button waits)
// and, forced past it, on the server.
func (p *page) setPassword(link, password string) {
	p.t.Helper()
	p.open(link, "invitation")
	p.shot("invitation")
	p.fill("#password", "too short")
	p.fill("#again", "too short")
	if !js[bool](p, `document.querySelector("#password-form button").disabled`) {
		p.t.Fatal("the browser let a short password through")
	}
	js[bool](p, `document.querySelector("#password-form input[name=password]").removeAttribute("minlength"); document.querySelector("#password-form button").disabled = false; true`)
	p.submit("#password-form button", "invitation")
	p.contains("#error", "12 to 128 characters")
	p.fill("#password", password)
	p.fill("#again", password)
	p.submit("#password-form button", "login")
	p.contains("p.notice", "Your password is set")
}

// The recipient's journey, acceptance 1 of issue 20: the invitation
// e-mail arrives at the test SMTP server, its link sets the password,
// sign-in with the user code and then the e-mail address, the parcel's
// note and documents (a signed PDF with its verdict), a download byte for
// byte; after the expiry (the test's clock) the parcel is expired, its
// documents cannot be fetched, and their sealed files are gone.
func TestRecipientJourney(t *testing.T) {
	testenv.Slow(t, "a recipient's whole journey in Chromium")
	pki, signed := signedPDF(t)
	f, base := served(t, InitOptions{Name: "Étude Martin", Trust: filepath.Join(pki.Dir, "root.pem")})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin", Lang: "en"}, testPassword)
	client, _, _, err := f.x.AddUser(ctx, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Lang: "en", Manager: pro.Code})
	if err != nil {
		t.Fatal(err)
	}
	invite := f.box.Next(t)
	if invite.To != client.Email || !strings.Contains(invite.Body, client.Code) {
		t.Fatalf("invitation %+v", invite)
	}
	p := newPage(t, base)

	// The professional sends from the web: a signed PDF and a .zip.
	zip := []byte("PK\x03\x04 a zip of the annexes " + marker)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "deed-signed.pdf"), signed, 0o644)
	os.WriteFile(filepath.Join(dir, "annexes.zip"), zip, 0o644)
	p.signIn(pro.Email, testPassword, "parcels")
	p.open("/send", "send")
	p.fill("#recipient", client.Email)
	p.fill("#title", "Sale deed, signed")
	p.fill("#note", "Dear Mr Durand,\n\nhere is the signed deed and its annexes.")
	js[bool](p, `document.querySelector("#days").value = "7"; true`)
	p.run(chromedp.SetUploadFiles(css("#documents"), []string{filepath.Join(dir, "deed-signed.pdf"), filepath.Join(dir, "annexes.zip")}))
	p.shot("send-firm")
	p.submit("#send-form button[type=submit]", "parcel")
	p.contains("p.notice", "Sent to Paul Durand")
	id := strings.TrimSuffix(strings.TrimPrefix(p.attr("#parcel form.withdraw", "action"), "/parcels/"), "/withdraw")
	if m := f.box.Next(t); m.To != client.Email || !strings.Contains(m.Body, "/parcels/"+id) {
		t.Fatalf("notification %+v", m)
	}
	p.signOut()
	assertNoPlaintext(t, f)

	p.setPassword(link(t, invite.Body, "/invitation/"), testPassword)
	p.shot("login")
	// The language switch: the same page in French, then back.
	p.open("/lang/fr?next=/login", "login")
	p.contains("h1", "Connexion")
	p.contains("label[for=login]", "Code utilisateur ou adresse e-mail")
	p.shot("login-fr")
	p.open("/lang/en?next=/login", "login")
	p.signIn(client.Code, testPassword, "parcels")
	p.contains("#received-list", "Sale deed, signed")
	p.contains("#received-list", "waiting")
	p.shot("parcels")
	p.signOut()
	p.signIn(client.Email, testPassword, "parcels")
	p.open("/parcels/"+id, "parcel")
	p.contains("#note", "here is the signed deed and its annexes")
	p.contains("#documents", "deed-signed.pdf")
	p.contains("#documents", "annexes.zip")
	p.contains("#documents .verdict", "TOTAL-PASSED")
	p.contains("#documents .verdict", "a root the exchange's operator trusts")
	p.contains("#expires", "")
	p.shot("parcel")
	if got := p.download(`li.document:nth-child(1) a.download`); !bytes.Equal(got, signed) {
		t.Fatal("the signed PDF came down changed")
	}
	if got := p.download(`li.document:nth-child(2) a.download`); !bytes.Equal(got, zip) {
		t.Fatal("the zip came down changed")
	}
	docURL := p.attr(`li.document:nth-child(1) a.download`, "href")
	p.open("/slips", "slips")
	p.shot("slips")
	p.open("/slips/"+id, "slip")
	p.contains("#audit", "downloaded deed-signed.pdf")
	p.contains("#slip-status", "opened")
	p.shot("slip")

	// A week later the session has ended (idle) and the parcel expired:
	// its documents are refused at once, and destroyed by the sweep.
	f.clock.Add(8 * 24 * time.Hour)
	p.signIn(client.Email, testPassword, "parcels")
	p.contains("#received-list", "expired")
	p.open(docURL, "error")
	p.contains("#error", "has expired or was withdrawn")
	if n, err := f.x.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	p.open("/parcels", "parcels")
	p.shot("parcels-expired")
	p.open("/parcels/"+id, "parcel")
	p.contains("#gone", "its note and documents were destroyed")
	p.shot("parcel-expired")
	p.open(docURL, "error")
	p.contains("#error", "has expired or was withdrawn")
	if files, _ := filepath.Glob(filepath.Join(f.dir, "documents", "*")); len(files) != 0 {
		t.Fatalf("sealed files left after the expiry: %v", files)
	}
	p.open("/slips/"+id, "slip")
	p.contains("#slip-status", "expired")
	p.contains("#audit", "expiry: documents destroyed")
}

// A client sends from the web without choosing a recipient, and the firm's
// account manager receives it (acceptance 2).
func TestClientSendsInBrowser(t *testing.T) {
	f, base := served(t, InitOptions{Name: "Étude Martin"})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin", Lang: "en"}, testPassword)
	f.user(t, NewUser{Kind: Firm, Email: "bob@firm.example", Name: "Bob Colleague", Lang: "en"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Lang: "en", Manager: pro.Code}, testPassword)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "id-card.pdf"), testenvOnePage(), 0o644)
	p := newPage(t, base)
	p.signIn(client.Code, testPassword, "parcels")
	p.open("/send", "send")
	p.contains("#to-manager", "Your folder goes to your account manager, Anne Martin.")
	if n := js[int](p, `document.querySelectorAll("#recipient").length`); n != 0 {
		t.Fatal("a client is asked for a recipient")
	}
	// A recipient forced into the form changes nothing.
	js[bool](p, `const i = document.createElement("input"); i.name = "recipient"; i.value = "bob@firm.example"; document.querySelector("#send-form").insertBefore(i, document.querySelector("#title")); true`)
	p.fill("#title", "My identity card")
	p.fill("#note", "As asked.")
	p.run(chromedp.SetUploadFiles(css("#documents"), []string{filepath.Join(dir, "id-card.pdf")}))
	p.shot("send-client")
	p.submit("#send-form button[type=submit]", "parcel")
	p.contains("p.notice", "Sent to Anne Martin")
	if m := f.box.Next(t); m.To != pro.Email || !strings.Contains(m.Subject, "Paul Durand") {
		t.Fatalf("the notification went to %s: %s", m.To, m.Subject)
	}
	f.box.Empty(t)
	received, _, err := f.x.Parcels(ctx, pro)
	if err != nil || len(received) != 1 || received[0].Title != "My identity card" || received[0].Sender.ID != client.ID {
		t.Fatalf("the manager received %+v, %v", received, err)
	}
	p.signOut()
	p.signIn(pro.Email, testPassword, "parcels")
	p.contains("#received-list", "My identity card")
	p.contains("#received-list", "Paul Durand")
}

func testenvOnePage() []byte { return testenv.OnePagePDF() }

// Each refusal of acceptance 3, asserted from the browser: another user's
// parcel URL, a forged CSRF token, a reused invitation link, a wrong TOTP
// code (and then the right one).
func TestRefusalsInBrowser(t *testing.T) {
	testenv.Slow(t, "every refusal of the pages in Chromium")
	f, base := served(t, InitOptions{Name: "Étude Martin"})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin", Lang: "en"}, testPassword)
	client, _, _, err := f.x.AddUser(ctx, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Lang: "en", Manager: pro.Code})
	if err != nil {
		t.Fatal(err)
	}
	invitation := link(t, f.box.Next(t).Body, "/invitation/")
	eve := f.user(t, NewUser{Kind: Client, Email: "eve@else.example", Name: "Eve", Lang: "en"}, testPassword)
	d, _ := f.x.NewDraft(ctx, pro, Sending{Recipient: client.Code, Title: "Private", Note: "for Paul only"})
	d.Add(ctx, "private.pdf", strings.NewReader("%PDF-1.7 private"))
	parcel, _, err := d.Send(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	f.box.Next(t)
	p := newPage(t, base)

	// The invitation works once.
	p.setPassword(invitation, testPassword)
	p.open(invitation, "invitation")
	p.contains("#error", "already used, has expired or was replaced")
	p.shot("invitation-used")

	// Another user's parcel and document URLs show nothing.
	p.signIn(eve.Email, testPassword, "parcels")
	p.open("/parcels/"+parcel.ID, "error")
	p.contains("#error", "No such folder or document here")
	p.shot("not-found")
	p.open("/parcels/"+parcel.ID+"/documents/"+parcel.Documents[0].ID, "error")
	p.open("/slips/"+parcel.ID, "error")
	p.contains("#error", "No such folder")

	// A forged CSRF token, and one from another session, are refused.
	p.open("/profile", "profile")
	js[bool](p, `const f = document.querySelector("form[action='/profile/language']"); f.querySelector("input[name=csrf]").value = "forged"; f.submit(); true`)
	p.run(chromedp.WaitVisible(css("main#page-error")))
	p.contains("#error", "did not come from this site")
	p.shot("csrf")
	p.signOut()

	// TOTP: switched on in the profile, then a wrong code is refused and the
	// right one signs in.
	p.signIn(client.Code, testPassword, "parcels")
	p.open("/profile", "profile")
	p.shot("profile")
	p.submit("#totp-start button", "profile")
	key := strings.ReplaceAll(p.text("#totp-key"), " ", "")
	raw, err := b32.DecodeString(key)
	if err != nil {
		t.Fatal(err)
	}
	p.contains("#totp-uri", "otpauth://totp/")
	p.shot("profile-totp")
	p.fill("#totp-code", hotp(raw, uint64(totpStep(f.clock.Now()))))
	p.submit("#totp-confirm button", "profile")
	p.contains("#totp-state", "On:")
	p.signOut()
	f.clock.Add(totpPeriod * time.Second)
	p.signIn(client.Email, testPassword, "code")
	p.shot("code")
	p.fill("#code", wrongCode(hotp(raw, uint64(totpStep(f.clock.Now())))))
	p.submit("#code-form button", "code")
	p.contains("#error", "Wrong or already used code")
	p.shot("code-wrong")
	if n := p.statusOf("/parcels"); n != "login" {
		t.Fatalf("signed in without the code: %s", n)
	}
	p.signIn(client.Email, testPassword, "code")
	p.fill("#code", hotp(raw, uint64(totpStep(f.clock.Now()))))
	p.submit("#code-form button", "parcels")
	p.contains("#received-list", "Private")
}

// wrongCode is a six-digit code other than right.
func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

// statusOf opens path and names the page shown (login when it asked to
// sign in first).
func (p *page) statusOf(path string) string {
	p.t.Helper()
	p.run(chromedp.Navigate(p.base + path))
	return strings.TrimPrefix(p.attr("main", "id"), "page-")
}

// End to end in the browser: a client registers an encryption
// certificate in My profile (a signing-only one is refused, in words);
// a parcel encrypted to it shows as such, with no verdict and no view,
// its download the bytes sent; and the sending form, in French, says in
// French that documents weigh too much before they are sent.
func TestEndToEndInBrowser(t *testing.T) {
	f, base := served(t, InitOptions{Name: "Étude Martin"})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin", Lang: "en"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Lang: "en", Manager: pro.Code}, testPassword)
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	year := time.Now().AddDate(1, 0, 0)
	cert := encryptionCert(t, key, client.Email, x509.KeyUsageKeyAgreement, year)
	os.WriteFile(filepath.Join(dir, "paul.pem"), pemOf(cert), 0o644)
	os.WriteFile(filepath.Join(dir, "signing.pem"), pemOf(encryptionCert(t, key, client.Email, x509.KeyUsageDigitalSignature, year)), 0o644)

	p := newPage(t, base)
	p.signIn(client.Code, testPassword, "parcels")
	p.open("/profile", "profile")
	p.contains("#certificate-none", "no encryption certificate")
	p.run(chromedp.SetUploadFiles(css("#certificate-file"), []string{filepath.Join(dir, "signing.pem")}))
	p.submit("#certificate-form button[type=submit]", "profile")
	p.contains("#error", "not for encryption")
	p.run(chromedp.SetUploadFiles(css("#certificate-file"), []string{filepath.Join(dir, "paul.pem")}))
	p.submit("#certificate-form button[type=submit]", "profile")
	p.contains("p.notice", "Your encryption certificate is registered")
	p.contains("#certificate", fingerprint(cert))
	p.shot("profile-certificate")

	_, deed := signedPDF(t)
	var sealed bytes.Buffer
	w, _ := cms.Encrypt(&sealed, cert)
	w.Write(deed)
	w.Close()
	d, err := f.x.NewDraft(ctx, pro, Sending{Recipient: client.Code, Title: "Acte de vente", EndToEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(ctx, "deed-signed.pdf.p7m", bytes.NewReader(sealed.Bytes())); err != nil {
		t.Fatal(err)
	}
	parcel, _, err := d.Send(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	p.open("/parcels/"+parcel.ID, "parcel")
	p.contains("#documents p.e2e", "paraphe receive "+parcel.ID)
	if n := js[int](p, `document.querySelectorAll("#documents .verdicts, #documents a[href$='/view']").length`); n != 0 {
		t.Fatalf("an end-to-end document shows %d verdicts or views", n)
	}
	p.shot("parcel-e2e")
	if got := p.download("#documents a.download"); !bytes.Equal(got, sealed.Bytes()) {
		t.Fatal("the encrypted document came down changed")
	}

	f.x.Config.MaxParcelMiB = 1
	big := filepath.Join(dir, "scan.tiff")
	os.WriteFile(big, make([]byte, 2<<20), 0o644)
	p.open("/lang/fr?next=/send", "send")
	p.run(chromedp.SetUploadFiles(css("#documents"), []string{big}))
	if msg := js[string](p, `document.querySelector("#documents").validationMessage`); msg != "Ces documents dépassent les 1.0 MB acceptés\u202f: envoyez-en moins, ou de plus petits." {
		t.Fatalf("the form says %q", msg)
	}
}
