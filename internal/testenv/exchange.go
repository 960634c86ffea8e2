package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rogpeppe/go-internal/testscript"
)

// ExchangeProcess is a "paraphe-exchange serve" process over HTTPS on a
// port of 127.0.0.2 (another host than the CA's 127.0.0.1, as a firm's
// exchange and its CA would be), mailing a real SMTP server on loopback
// (Mailbox).
type ExchangeProcess struct {
	Dir  string
	URL  string // https://127.0.0.2:PORT
	Root string // the PEM file of the root its TLS certificate chains to
	Mail *Mailbox
	bin  string
	*serverProcess
}

// StartExchangeProcess creates an exchange in dir with "bin init --url
// https://127.0.0.2:PORT --smtp … initArgs…", a TLS certificate for
// 127.0.0.2 from a root of its own, and runs "bin serve" on that port
// (handed over as a socket, so that the port is its own from the start).
// It stops the server when the test ends.
func StartExchangeProcess(t testing.TB, bin, dir string, initArgs ...string) *ExchangeProcess {
	t.Helper()
	return startExchangeProcess(t, bin, dir, nil, initArgs...)
}

// startExchangeProcess is StartExchangeProcess with env added to the
// environment of init and serve (a script's SoftHSM2 folder and PIN).
func startExchangeProcess(t testing.TB, bin, dir string, env []string, initArgs ...string) *ExchangeProcess {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := &ExchangeProcess{Dir: dir, URL: "https://" + l.Addr().String(), Mail: StartMailbox(t), bin: bin}
	tlsDir := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+"-tls")
	p.Root = exchangeTLS(t, tlsDir)
	args := append([]string{"init", "--dir", dir, "--url", p.URL, "--smtp", p.Mail.Addr, "--from", "parcels@firm.example", "--smtp-tls", "none",
		"--tls-cert", filepath.Join(tlsDir, "chain.pem"), "--tls-key", filepath.Join(tlsDir, "key.pem")}, initArgs...)
	initCmd := exec.Command(bin, args...)
	initCmd.Env = append(os.Environ(), env...)
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("paraphe-exchange init: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--dir", dir)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = append(append(os.Environ(), env...), "LISTEN_FDS=1")
	p.serverProcess = startServerProcess(t, cmd, p.URL, "paraphe-exchange serve")
	return p
}

// exchangeTLS writes a root, and a certificate for 127.0.0.2 it issues
// (chain.pem, key.pem), to dir; it returns the root's file.
func exchangeTLS(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	root := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "Exchange Test Web Root", Organization: []string{"Paraphe tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, 7), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(rootDER)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano() + 1), Subject: pkix.Name{CommonName: "127.0.0.2"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 2)}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, 7),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, leafKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	keyDER, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	files := map[string][]byte{
		"root.pem":  pemOf("CERTIFICATE", rootDER),
		"chain.pem": append(pemOf("CERTIFICATE", leafDER), pemOf("CERTIFICATE", rootDER)...),
		"key.pem":   pemOf("PRIVATE KEY", keyDER),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "root.pem")
}

// client is an HTTPS client that trusts the exchange's root, with a
// cookie jar, as a browser would be.
func (p *ExchangeProcess) client(t testing.TB) *http.Client {
	t.Helper()
	data, err := os.ReadFile(p.Root)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(data)
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([A-Za-z0-9_-]+)"`)

// SetPassword follows an invitation link as a browser does: the page and
// its cookie, then the form with its CSRF token.
func (p *ExchangeProcess) SetPassword(t testing.TB, link, password string) {
	t.Helper()
	c := p.client(t)
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, at := p.post(t, c, link, string(page), url.Values{"password": {password}, "again": {password}}); at != "/login" {
		t.Fatalf("the password was not set: the form led to %s", at)
	}
}

// EnableTOTP turns the two-factor sign-in on for the account login, as
// its user does in My profile, signed in on the web with password: the key
// the page shows, then a first code, oathtool's for the step before now,
// so that the current step's code is still unused. It returns the key
// (base32, as authenticator apps and oathtool take it).
func (p *ExchangeProcess) EnableTOTP(t testing.TB, login, password string) string {
	t.Helper()
	Require(t, "oathtool")
	c := p.client(t)
	page, at := p.post(t, c, "/login", p.get(t, c, "/login"), url.Values{"login": {login}, "password": {password}, "next": {"/profile"}})
	if at != "/profile" {
		t.Fatalf("sign-in as %s led to %s", login, at)
	}
	page, _ = p.post(t, c, "/profile/totp", page, url.Values{})
	key, pending := totpKeyRE.FindStringSubmatch(page), pendingRE.FindStringSubmatch(page)
	if key == nil || pending == nil {
		t.Fatal("the profile page shows no key to enrol")
	}
	b32 := strings.ReplaceAll(key[1], " ", "")
	out, err := exec.Command("oathtool", "--totp", "--base32", "--now", time.Now().Add(-30*time.Second).UTC().Format("2006-01-02 15:04:05 UTC"), b32).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	page, at = p.post(t, c, "/profile/totp/confirm", page, url.Values{"pending": {pending[1]}, "code": {strings.TrimSpace(string(out))}})
	if at != "/profile" || !strings.Contains(page, `id="totp-off"`) {
		t.Fatalf("the first code did not turn two-factor sign-in on (at %s)", at)
	}
	return b32
}

var (
	totpKeyRE = regexp.MustCompile(`id="totp-key">([A-Z2-7 ]+)<`)
	pendingRE = regexp.MustCompile(`name="pending" value="([^"]+)"`)
)

// get is the page at path.
func (p *ExchangeProcess) get(t testing.TB, c *http.Client, path string) string {
	t.Helper()
	resp, err := c.Get(p.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", path, resp.Status)
	}
	return string(page)
}

// post submits values to path with the CSRF token of the form on page, as
// a browser does, and returns the page it leads to and that page's path.
func (p *ExchangeProcess) post(t testing.TB, c *http.Client, path, page string, values url.Values) (string, string) {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form to post to %s", path)
	}
	values.Set("csrf", m[1])
	if !strings.HasPrefix(path, "http") {
		path = p.URL + path
	}
	resp, err := c.PostForm(path, values)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp.Request.URL.Path
}

// Mailbox is a real SMTP server on loopback (emersion/go-smtp) that
// keeps what it receives.
type Mailbox struct {
	Addr  string
	mu    sync.Mutex
	got   []Mail
	taken int // the messages Next gave
	more  chan struct{}
}

// Mail is a message the mailbox received, its subject and body decoded.
type Mail struct {
	From, To, Subject, Body string
}

// StartMailbox serves SMTP on a loopback port until the test ends.
func StartMailbox(t testing.TB) *Mailbox {
	t.Helper()
	box := &Mailbox{more: make(chan struct{}, 1)}
	s := smtp.NewServer(mailBackend{box})
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.Addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return box
}

// Last is the last message to to, waiting up to a minute for one.
func (b *Mailbox) Last(t testing.TB, to string) Mail {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		b.mu.Lock()
		for i := len(b.got) - 1; i >= 0; i-- {
			if strings.EqualFold(b.got[i].To, to) {
				m := b.got[i]
				b.mu.Unlock()
				return m
			}
		}
		b.mu.Unlock()
		select {
		case <-b.more:
		case <-deadline:
			t.Fatalf("no e-mail to %s arrived", to)
		}
	}
}

// Next is the next message Next has not given yet, in the order they
// arrived, waiting up to a minute for one.
func (b *Mailbox) Next(t testing.TB) Mail {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		b.mu.Lock()
		if b.taken < len(b.got) {
			m := b.got[b.taken]
			b.taken++
			b.mu.Unlock()
			return m
		}
		b.mu.Unlock()
		select {
		case <-b.more:
		case <-deadline:
			t.Fatal("no e-mail arrived")
		}
	}
}

// Empty fails if a message arrived that Next has not given.
func (b *Mailbox) Empty(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.taken < len(b.got) {
		t.Fatalf("unexpected e-mail to %s: %s", b.got[b.taken].To, b.got[b.taken].Subject)
	}
}

type mailBackend struct{ box *Mailbox }

func (b mailBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &mailSession{box: b.box}, nil
}

type mailSession struct {
	box      *Mailbox
	from, to string
}

func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *mailSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	var body io.Reader = m.Body
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		body = quotedprintable.NewReader(m.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	s.box.got = append(s.box.got, Mail{From: s.from, To: s.to, Subject: subject, Body: string(text)})
	s.box.mu.Unlock()
	select {
	case s.box.more <- struct{}{}:
	default:
	}
	return nil
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// Link is the first address in body whose path holds part.
func Link(body, part string) string {
	for _, l := range linkRE.FindAllString(body, -1) {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}

// cmdExchange is the script command: see RunScripts.
func cmdExchange(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: exchange start|stop|log|user|mail")
	}
	st := state(ts)
	running := func() *ExchangeProcess {
		if st.exchange == nil {
			ts.Fatalf("exchange %s: no exchange started (exchange start)", args[0])
		}
		return st.exchange
	}
	switch args[0] {
	case "start":
		if st.exchange != nil {
			ts.Fatalf("exchange start: an exchange is running already")
		}
		var env []string
		for _, k := range []string{"SOFTHSM2_CONF", "PARAPHE_EXCHANGE_PIN"} {
			if v := ts.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
		st.exchange = startExchangeProcess(tb(ts), lookPath(ts, "paraphe-exchange"), ts.MkAbs("exchange"), env, args[1:]...)
		ts.Setenv("EXCHANGE", st.exchange.Dir)
		ts.Setenv("EXCHANGE_URL", st.exchange.URL)
		ts.Setenv("EXCHANGE_ROOT", st.exchange.Root)
	case "stop":
		running().Stop()
	case "log":
		fmt.Fprint(ts.Stdout(), running().Log.String())
	case "user":
		exchangeUser(ts, running(), args[1:])
	case "totp":
		if len(args) != 3 {
			ts.Fatalf("usage: exchange totp LOGIN PASSWORD")
		}
		ts.Setenv("TOTP_KEY", running().EnableTOTP(tb(ts), args[1], args[2]))
	case "mail":
		if len(args) != 2 {
			ts.Fatalf("usage: exchange mail TO")
		}
		m := running().Mail.Last(tb(ts), args[1])
		fmt.Fprintf(ts.Stdout(), "From: %s\nTo: %s\nSubject: %s\n\n%s", m.From, m.To, m.Subject, m.Body)
	default:
		ts.Fatalf("exchange: unknown subcommand %q", args[0])
	}
}

// exchangeUser adds an account with paraphe-exchange user add, and sets
// its password through the invitation e-mail's link: $CODE.
func exchangeUser(ts *testscript.TestScript, p *ExchangeProcess, args []string) {
	if len(args) < 4 || (args[0] != "--firm" && args[0] != "--client") {
		ts.Fatalf("usage: exchange user --firm|--client EMAIL NAME PASSWORD [--manager LOGIN]")
	}
	ts.Setenv("CODE", p.AddUser(tb(ts), args[0], args[1], args[2], args[3], args[4:]...))
}

// AddUser adds an account with "paraphe-exchange user add KIND --email
// EMAIL --name NAME EXTRA…" (kind --firm or --client), sets its password
// through the invitation e-mail's link, as its holder would, and returns
// its user code.
func (p *ExchangeProcess) AddUser(t testing.TB, kind, email, name, password string, extra ...string) string {
	t.Helper()
	add := append([]string{"user", "add", "--dir", p.Dir, kind, "--email", email, "--name", name, "--lang", "en", "--json"}, extra...)
	out, err := exec.Command(p.bin, add...).Output()
	if err != nil {
		t.Fatalf("paraphe-exchange user add: %v\n%s", err, out)
	}
	var u struct{ Code string }
	if err := json.Unmarshal(out, &u); err != nil {
		t.Fatal(err)
	}
	link := Link(p.Mail.Last(t, email).Body, "/invitation/")
	if link == "" {
		t.Fatalf("the invitation to %s holds no link", email)
	}
	p.SetPassword(t, link, password)
	return u.Code
}

// TLSRoot is the root the exchange's TLS certificate chains to.
func (p *ExchangeProcess) TLSRoot(t testing.TB) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(p.Root)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
