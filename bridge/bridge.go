// Package bridge is the local signing bridge: an HTTP service on
// 127.0.0.1 that web pages of the origins the machine policy lists
// (web_origins) call to see the holder's certificates, to sign a portal's
// challenge (sign in, register a certificate) and to sign a document's
// hash, each time with the holder's consent, asked by a Consenter (the
// desktop app's dialog, paraphe bridge's terminal), the PIN typed there and
// never in the page.
//
// A request whose Origin the policy does not list exactly gets nothing: a
// 403 without a body and without CORS headers, so that the page cannot
// even read the refusal; the holder is not asked. Nor does a request whose
// Host is not the loopback address it came to (a DNS rebinding page), one
// from another user's program on this computer (Linux says whose a
// loopback connection is), or one without an Origin (a browser always
// sends one with a cross-origin request). The CORS preflight is answered for listed origins, with
// Chrome's Private Network Access header when asked.
//
// The API is JSON under /v1/ (docs/bridge.md): GET status, POST
// certificates, authenticate (a Web eID web-eid:1.0 token) and sign (a
// detached CMS for PAdES or CAdES). paraphe-bridge.js, the client for
// pages, is served at /paraphe-bridge.js to the same origins.
//
// What the bridge cannot know: a program on this computer may send any
// Origin it likes. The PIN, typed in Paraphe's own window, is what keeps
// such a program from using the key; the dialog names the origin the
// request claims.
package bridge

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/config"
)

// Client is paraphe-bridge.js, the pages' client.
//
//go:embed paraphe-bridge.js
var Client []byte

// Server is the bridge. Its zero value answers nothing: give it the policy
// and a Consenter.
type Server struct {
	// Policy says which origins are answered (web_origins) and which
	// stores and certificates are offered; nil answers no origin.
	Policy  *config.Policy
	Consent Consenter
	// Version is Paraphe's, named in the tokens' appVersion.
	Version string
	// Log records every request: its origin, what it asked and how it
	// ended; never a PIN, a challenge or a hash. Nil logs nothing.
	Log *slog.Logger
	// Now is the clock of the rate limit and of CAdES signing times
	// (time.Now when nil).
	Now func() time.Time

	limit limiter
}

// Listen opens the bridge's socket: 127.0.0.1 at the policy's port (p may
// be nil: the default port). A port taken is a *BusyError.
func Listen(p *config.Policy) (net.Listener, error) {
	addr := p.BridgeAddr()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, Busy(addr, err)
	}
	return l, nil
}

// BusyError: the bridge cannot listen on its port, taken by another
// program. UID is the user whose socket holds it, when the system says
// (Linux), else -1.
type BusyError struct {
	Addr string
	UID  int
	Err  error
}

func (e *BusyError) Error() string {
	if e.OtherUser() {
		return fmt.Sprintf("bridge: %s is held by another user of this computer (uid %d)", e.Addr, e.UID)
	}
	return fmt.Sprintf("bridge: cannot listen on %s: %v", e.Addr, e.Err)
}

func (e *BusyError) Unwrap() error { return e.Err }

// OtherUser reports whether another user of this computer holds the port
// (their bridge, on a machine several people use at once).
func (e *BusyError) OtherUser() bool { return e.UID >= 0 && e.UID != os.Getuid() }

// Mine reports whether a program of this user holds the port (the
// service manager's socket that starts the bridge, or paraphe bridge in a
// terminal).
func (e *BusyError) Mine() bool { return e.UID >= 0 && e.UID == os.Getuid() }

// Busy is err, a failure to listen on addr, as a *BusyError naming the
// port's holder.
func Busy(addr string, err error) *BusyError {
	e := &BusyError{Addr: addr, UID: -1, Err: err}
	if _, p, splitErr := net.SplitHostPort(addr); splitErr == nil {
		if port, convErr := strconv.Atoi(p); convErr == nil {
			e.UID = portOwner(port)
		}
	}
	return e
}

// Serve answers on l until ctx ends, then lets requests under way finish
// (a consent being asked is withdrawn).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, peerKey{}, peerUID(c))
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shut)
	}()
	err := hs.Serve(l)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log(msg string, args ...any) {
	if s.Log != nil {
		s.Log.Info(msg, args...)
	}
}

// Handler is the bridge's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /paraphe-bridge.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(Client)
	})
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("POST /v1/certificates", s.certificates)
	mux.HandleFunc("POST /v1/authenticate", s.authenticate)
	mux.HandleFunc("POST /v1/sign", s.sign)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if uid, ok := r.Context().Value(peerKey{}).(int); ok && uid >= 0 && uid != os.Getuid() {
			s.log("refused", "reason", "user", "uid", uid, "origin", origin, "path", r.URL.Path)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if !loopbackHost(r.Host) {
			s.log("refused", "reason", "host", "host", r.Host, "origin", origin, "path", r.URL.Path)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if !s.Policy.AllowsOrigin(origin) {
			s.log("refused", "reason", "origin", "origin", origin, "path", r.URL.Path)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodOptions {
			s.preflight(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// peerKey is the context key of the uid of the process a connection comes
// from (-1: unknown): on a computer several people use, another user's
// browser reaching this user's bridge is refused before anything, and
// this user is not asked.
type peerKey struct{}

// preflight answers a CORS preflight from a listed origin, and Chrome's
// Private Network Access question (a public page reaching 127.0.0.1).
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	s.log("preflight", "origin", r.Header.Get("Origin"), "path", r.URL.Path)
	w.WriteHeader(http.StatusNoContent)
}

// loopbackHost reports whether a request's Host names the loopback
// interface the bridge listens on, so that a page whose own name was made
// to resolve to 127.0.0.1 (DNS rebinding) is refused: its requests carry
// its name.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
