package exchange

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ErrPlainHTTP is returned by Serve for plain HTTP on an address that is
// not loopback: without TLS the exchange runs only behind a reverse proxy
// on the same machine.
var ErrPlainHTTP = errors.New("exchange: plain HTTP is served on loopback only; give a TLS certificate, or serve behind a reverse proxy on 127.0.0.1")

// SweepInterval is how often Serve sweeps expired parcels.
const SweepInterval = time.Minute

// Serve serves the pages and the API on l until ctx is done (HTTPS with
// the configured certificate, else plain HTTP on loopback), sweeping
// expired parcels every SweepInterval; then it shuts down gracefully.
func (x *Exchange) Serve(ctx context.Context, l net.Listener) error {
	if x.keys.locked() {
		return ErrKeysLocked
	}
	if x.tls == nil {
		if a, ok := l.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			return ErrPlainHTTP
		}
	}
	srv := &http.Server{
		Handler:           x.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies (uploads) and responses (downloads) of any size: the
		// handlers that stream them lift their own deadlines; others
		// answer in far less.
		ReadTimeout:    2 * time.Minute,
		WriteTimeout:   2 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(x.Log.Handler(), slog.LevelWarn),
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go x.Sweeper(sctx, SweepInterval)
	errc := make(chan error, 1)
	go func() {
		if x.tls != nil {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*x.tls}}
			errc <- srv.ServeTLS(l, "", "")
			return
		}
		errc <- srv.Serve(l)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(c)
	}
}
