package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/paraphe/paraphe/internal/local"
)

// Action is what a page asks the holder to agree to.
type Action string

// Actions, one per question the holder is asked.
const (
	// ActionCertificates: show the site the certificates of this computer
	// (name, title, member number, issuer, validity; never a key).
	ActionCertificates Action = "certificates"
	// ActionRegister and ActionSignIn: sign the site's challenge, to
	// register the certificate with the site or to sign in with it.
	ActionRegister Action = "register"
	ActionSignIn   Action = "signin"
	// ActionSign: sign a document whose hash the page gives.
	ActionSign Action = "sign"
)

// NeedsKey reports whether the action signs with a key, and so asks for a
// certificate and its PIN.
func (a Action) NeedsKey() bool { return a != ActionCertificates }

// Request is what the holder is asked.
type Request struct {
	// Origin is the page's origin as the browser sent it, one the machine
	// policy lists.
	Origin string
	Action Action
	// Document is the name the page gives the document it wants signed
	// (ActionSign), stripped of control and direction characters and cut to
	// MaxDocumentName characters: the page's words, to be shown as such.
	Document string
	// Certs are the certificates the holder may choose from: the one the
	// page named, or every certificate of this computer.
	Certs []local.Cert
}

// Answer is the holder's.
type Answer struct {
	// Allow is the holder's yes; the zero Answer refuses.
	Allow bool
	// Cert is the ID of the certificate chosen among Request.Certs, and
	// PIN the PIN typed for its key, for actions that need a key.
	Cert string
	PIN  []byte
}

// A Consenter asks the holder whether to do what a page asks: the desktop
// app in a dialog, paraphe bridge on its terminal. Consent returns when the
// holder answers, or when ctx ends (the page went away: the question is
// withdrawn, and the answer is a refusal). The bridge asks one question at
// a time.
type Consenter interface {
	Consent(ctx context.Context, r Request) (Answer, error)
}

// ErrNoConsent is returned by a Consenter that has no one to ask (paraphe
// bridge without a terminal): the page is told that the holder could not
// be asked.
var ErrNoConsent = errors.New("bridge: no one to ask for consent")

// Asks are limited per origin: a page cannot put the question again and
// again until the holder, weary, says yes.
const (
	AsksPerWindow = 5
	AskWindow     = time.Minute
)

// limiter counts the questions asked per origin in the last AskWindow and
// lets one be open at a time.
type limiter struct {
	mu    sync.Mutex
	asked map[string][]time.Time
	open  bool
}

// errBusy and errTooMany are why take refuses.
var (
	errBusy    = errors.New("bridge: the holder is already being asked")
	errTooMany = errors.New("bridge: too many questions from this site")
)

// take reserves the question for origin at now, or says why not; the
// caller calls done once the holder has answered. The second result is
// when a refused origin may ask again.
func (l *limiter) take(origin string, now time.Time) (done func(), retry time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.asked == nil {
		l.asked = map[string][]time.Time{}
	}
	recent := l.asked[origin][:0]
	for _, t := range l.asked[origin] {
		if now.Sub(t) < AskWindow && !t.After(now) {
			recent = append(recent, t)
		}
	}
	l.asked[origin] = recent
	if len(recent) >= AsksPerWindow {
		return nil, AskWindow - now.Sub(recent[0]), errTooMany
	}
	if l.open {
		return nil, 0, errBusy
	}
	l.open = true
	l.asked[origin] = append(recent, now)
	return func() {
		l.mu.Lock()
		l.open = false
		l.mu.Unlock()
	}, 0, nil
}
