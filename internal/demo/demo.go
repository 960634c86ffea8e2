// Package demo runs Paraphe's demo certification authority: a paraphe-ca
// inside this process, on loopback, with a demo notary enrolled whose
// reference code and answers are shown to whoever tries the suite on a
// computer no organisation has set up. The desktop app starts it from its
// home screen (cmd/paraphe hands it in, so that the screens link no CA),
// and "paraphe demo" serves it for the command line (make demo).
//
// The demo CA lives in the user's Paraphe folder (Dir) and keeps its ports
// from one run to the next when they are free, so that the certificates it
// issued, and the documents signed with them, stay trusted.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/i18n"
)

// answers are the demo holder's answers to her questions, shown to the user.
var answers = []string{"Montréal", "Rex", "Jules Ferry"}

// ErrBusy: the demo CA's ports are taken, most likely by the demo of
// another Paraphe window or of "paraphe demo".
var ErrBusy = errors.New("demo: the demo CA's ports are in use (another Paraphe window runs the demo?)")

// Holder is the demo holder, Marie Dupont, notary in Paris: her title, her
// order and her secret questions in p's language.
func Holder(p *i18n.Printer) ca.Holder {
	h := ca.Holder{Name: "Marie Dupont", Title: p.T("demo.holder_title"), MemberNumber: "75-1234",
		Organization: p.T("demo.holder_order"), Email: "marie.dupont@example.org"}
	for i, q := range []string{p.T("demo.q1"), p.T("demo.q2"), p.T("demo.q3")} {
		h.Questions = append(h.Questions, ca.Question{Question: q, Answer: answers[i]})
	}
	return h
}

// Dir is the demo CA's folder, demo-ca in the user's Paraphe folder
// (created if need be).
func Dir() (string, error) {
	home, err := config.EnsureHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "demo-ca"), nil
}

// CA is a demo certification authority serving on loopback.
type CA struct {
	authority *ca.Authority
	policy    *config.Policy
	file      string // where the policy is written
	code      string // the demo holder's reference code
	stop      context.CancelFunc
	done      chan error
}

// Start opens the demo CA in dir, or creates it there (replacing whatever
// else dir held), serves it on loopback and enrols the demo holder (Holder
// in p's language) with a new reference code. A demo CA made before takes
// its ports again; ErrBusy when they are taken. Requests are logged to log
// (nowhere when nil), with codes redacted as paraphe-ca serve logs them.
func Start(dir string, p *i18n.Printer, log *slog.Logger) (*CA, error) {
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	a, l, lv, err := reopen(dir)
	if err != nil {
		return nil, err
	}
	if a == nil {
		if a, l, lv, err = create(dir); err != nil {
			return nil, err
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &CA{authority: a, stop: stop, done: make(chan error, 1), file: filepath.Join(dir, "policy.json")}
	go func() { c.done <- a.Serve(ctx, l, lv, log) }()
	if c.code, err = a.Enroll(ctx, Holder(p)); err == nil {
		c.policy, err = c.writePolicy()
	}
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// create makes a new demo CA in dir on two new loopback ports, which go
// into its certificates (hence listening before it exists).
func create(dir string) (*ca.Authority, net.Listener, net.Listener, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, err
	}
	lv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		return nil, nil, nil, err
	}
	err = ca.Init(dir, ca.InitOptions{Name: "Paraphe Demo CA", URL: "https://" + l.Addr().String(), ValidationURL: "http://" + lv.Addr().String()})
	var a *ca.Authority
	if err == nil {
		a, err = ca.Open(dir)
	}
	if err != nil {
		l.Close()
		lv.Close()
		return nil, nil, nil, err
	}
	return a, l, lv, nil
}

// reopen opens the demo CA in dir and takes its ports again; nil when
// there is none yet. Its ports being taken is ErrBusy: the folder is then
// left alone (another window's demo may be using it).
func reopen(dir string) (*ca.Authority, net.Listener, net.Listener, error) {
	a, err := ca.Open(dir)
	if err != nil {
		return nil, nil, nil, nil
	}
	hostOf := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		return u.Host
	}
	l, err := net.Listen("tcp", hostOf(a.Config.URL))
	if err != nil {
		a.Close()
		return nil, nil, nil, ErrBusy
	}
	lv, err := net.Listen("tcp", hostOf(a.Config.ValidationURL))
	if err != nil {
		l.Close()
		a.Close()
		return nil, nil, nil, ErrBusy
	}
	return a, l, lv, nil
}

// writePolicy writes the policy that points clients at the demo CA beside
// it, for the command line (PARAPHE_POLICY), and returns it.
func (c *CA) writePolicy() (*config.Policy, error) {
	data, err := config.PolicyFor(c.authority.Config.URL, ca.Fingerprint(c.authority.Root))
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(c.file, data, 0o644); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return config.ParsePolicy(data)
}

// Policy is the machine policy that points clients at the demo CA.
func (c *CA) Policy() *config.Policy { return c.policy }

// PolicyFile is where that policy is written.
func (c *CA) PolicyFile() string { return c.file }

// URL is the demo CA's address.
func (c *CA) URL() string { return c.authority.Config.URL }

// Code is the demo holder's reference code.
func (c *CA) Code() string { return c.code }

// Answers are the demo holder's answers to her questions.
func (c *CA) Answers() []string { return append([]string(nil), answers...) }

// Stop stops serving and closes the CA.
func (c *CA) Stop() {
	c.stop()
	if err := <-c.done; err != nil && !errors.Is(err, context.Canceled) {
		slog.Debug("demo CA", "err", err)
	}
	c.authority.Close()
}
