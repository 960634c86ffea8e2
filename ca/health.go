package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// The admin listener (Serve's, on loopback by default): /metrics in
// Prometheus' text format, /healthz (the process answers) and /readyz
// (it can serve: the database answers, the key store signs, and it is not
// stopping), for a load balancer or an orchestrator to take a replica out
// before it fails requests. It has no authentication: keep it on loopback
// or a private network.

// pinger is what readiness asks of the database; both stores (SQLite, and
// PostgreSQL) answer it.
type pinger interface {
	Ping(ctx context.Context) error
}

// readyTimeout bounds each of the readiness checks.
const readyTimeout = 2 * time.Second

// errStopping: Serve is shutting down.
var errStopping = errors.New("ca: the server is stopping")

// Ping checks that the database answers; for SQLite, also that its file
// is still where it was opened: a connection open on a file removed since
// goes on answering, from a database nobody else sees.
func (s *store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	if s.dialect != sqliteDB {
		return nil
	}
	var file string
	if err := s.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	var n int
	if err := s.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return nil
}

// Readiness is what /readyz says of each check: nil when it passed.
type Readiness struct {
	Database, Keys, Serving error
}

// Ready reports whether a can serve.
func (r Readiness) Ready() bool { return r.Database == nil && r.Keys == nil && r.Serving == nil }

// CheckReady runs the readiness checks: the database answers (pinger), the
// issuing CA's, the TSA's and the OCSP responder's keys sign (a token
// answers), and Serve is not stopping.
func (a *Authority) CheckReady(ctx context.Context) Readiness {
	var r Readiness
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var db pinger = a.db
	r.Database = db.Ping(ctx)
	r.Keys = a.probeKeys(ctx)
	if a.draining.Load() {
		r.Serving = errStopping
	}
	return r
}

// probeKeys signs a digest with each key the server signs with, giving up
// on a key store that does not answer in time.
func (a *Authority) probeKeys(ctx context.Context) error {
	keys := []crypto.Signer{a.issuerKey, a.tsaKey}
	if r := a.responder.Load(); r != nil {
		keys = append(keys, r.key)
	}
	done := make(chan error, 1)
	go func() {
		digest := sha256.Sum256([]byte("paraphe-ca readiness"))
		for _, k := range keys {
			if _, err := k.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
				done <- fmt.Errorf("ca: key store: %w", err)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("ca: key store: %w", ctx.Err())
	}
}

// AdminHandler serves /metrics, /healthz and /readyz.
func (a *Authority) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ready := a.CheckReady(r.Context())
		status, body := http.StatusOK, map[string]string{}
		for name, err := range map[string]error{"database": ready.Database, "keys": ready.Keys, "serving": ready.Serving} {
			body[name] = "ok"
			if err != nil {
				body[name], status = err.Error(), http.StatusServiceUnavailable
			}
		}
		writeJSON(w, status, body)
	})
	return mux
}
