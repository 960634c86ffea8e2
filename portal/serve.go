package portal

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve answers on l until ctx ends: over TLS with the certificate and key
// in certFile and keyFile, or in plain HTTP when they are empty (behind a
// TLS-terminating proxy, or on loopback for development).
func (p *Portal) Serve(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	h, err := p.Handler()
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(shut)
	}()
	if certFile != "" {
		err = hs.ServeTLS(l, certFile, keyFile)
	} else {
		err = hs.Serve(l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}
