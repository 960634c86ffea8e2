package exchange

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

// link is the first address in body under path.
func link(t *testing.T, body, path string) string {
	t.Helper()
	l := testenv.Link(body, path)
	if l == "" {
		t.Fatalf("no %s link in %q", path, body)
	}
	return l
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
	box   *testenv.Mailbox
	clock *clock
	ready func(*Exchange)
}

func newFixture(t *testing.T, o InitOptions) *fixture {
	t.Helper()
	return newFixtureWith(t, o, nil)
}

// newFixtureWith is newFixture with ready run on each opened exchange
// before it is used (to hand it its token).
func newFixtureWith(t *testing.T, o InitOptions, ready func(*Exchange)) *fixture {
	t.Helper()
	f := &fixture{ready: ready, dir: t.TempDir(), box: testenv.StartMailbox(t), clock: &clock{t: time.Now().Truncate(time.Second)}}
	if o.SMTP.Addr == "" {
		o.SMTP = SMTP{Addr: f.box.Addr, From: "exchange@firm.example", TLS: "none"}
	}
	testDatabase(t, &o)
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
	if f.ready != nil {
		f.ready(x)
	}
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
	m := f.box.Next(t)
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
