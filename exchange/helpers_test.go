package exchange

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server on loopback (emersion/go-smtp) that keeps
// what it receives.
type mailbox struct {
	addr string
	got  chan received
}

type received struct {
	From, To, Subject, Body string
	Raw                     []byte
}

type smtpBackend struct{ box *mailbox }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{box: b.box}, nil
}

type smtpSession struct {
	box      *mailbox
	from, to string
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
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
	s.box.got <- received{From: s.from, To: s.to, Subject: subject, Body: string(text), Raw: raw}
	return nil
}

func startSMTP(t *testing.T) *mailbox {
	t.Helper()
	box := &mailbox{got: make(chan received, 100)}
	s := smtp.NewServer(smtpBackend{box})
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return box
}

// next is the next message, or a failure after a minute.
func (b *mailbox) next(t *testing.T) received {
	t.Helper()
	select {
	case m := <-b.got:
		return m
	case <-time.After(time.Minute):
		t.Fatal("no e-mail arrived")
	}
	return received{}
}

// empty fails if a message is waiting.
func (b *mailbox) empty(t *testing.T) {
	t.Helper()
	select {
	case m := <-b.got:
		t.Fatalf("unexpected e-mail to %s: %s", m.To, m.Subject)
	default:
	}
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// link is the first address in body under path.
func link(t *testing.T, body, path string) string {
	t.Helper()
	for _, l := range linkRE.FindAllString(body, -1) {
		if strings.Contains(l, path) {
			return l
		}
	}
	t.Fatalf("no %s link in %q", path, body)
	return ""
}

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is an exchange in a temporary folder, mailing a test mailbox,
// on a clock the test moves.
type fixture struct {
	dir   string
	x     *Exchange
	box   *mailbox
	clock *clock
}

func newFixture(t *testing.T, o InitOptions) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), box: startSMTP(t), clock: &clock{t: time.Now().Truncate(time.Second)}}
	if o.SMTP.Addr == "" {
		o.SMTP = SMTP{Addr: f.box.addr, From: "exchange@firm.example", TLS: "none"}
	}
	if err := Init(f.dir, o); err != nil {
		t.Fatal(err)
	}
	f.x = f.open(t)
	return f
}

// open opens the folder again, as another process would.
func (f *fixture) open(t *testing.T) *Exchange {
	t.Helper()
	x, err := Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	x.Now = f.clock.Now
	t.Cleanup(func() { x.Close() })
	return x
}

// user adds an account and sets its password through the invitation
// e-mail's link.
func (f *fixture) user(t *testing.T, n NewUser, password string) *User {
	t.Helper()
	u, _, mailed, err := f.x.AddUser(context.Background(), n)
	if err != nil || !mailed {
		t.Fatalf("add %s: mailed %v, %v", n.Email, mailed, err)
	}
	m := f.box.next(t)
	if m.To != u.Email {
		t.Fatalf("invitation to %s, want %s", m.To, u.Email)
	}
	tok := strings.TrimPrefix(link(t, m.Body, "/invitation/"), strings.TrimRight(f.x.Config.URL, "/")+"/invitation/")
	if _, err := f.x.AcceptInvitation(context.Background(), tok, password, password, "test"); err != nil {
		t.Fatal(err)
	}
	u, err = f.x.User(context.Background(), u.Code)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func isErr(err, target error) bool { return errors.Is(err, target) }
