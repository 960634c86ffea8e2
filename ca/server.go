package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

func keyTypeOf(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return protocol.KeyECDSAP256
		}
		return "ecdsa-" + k.Curve.Params().Name
	case *rsa.PublicKey:
		if k.N.BitLen() == 3072 {
			return protocol.KeyRSA3072
		}
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	}
	return "unknown"
}

// Handler returns the HTTP handler of the CA: the service document, the
// activation API and EST. It logs one line per request to log, with
// reference codes redacted and nothing secret.
func (ca *Authority) Handler(log *slog.Logger) http.Handler {
	a := &server{ca, log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+protocol.ServicePath, a.serviceDocument)
	mux.HandleFunc("GET "+protocol.ActivationPrefix+"{ref}/questions", a.handleQuestions)
	mux.HandleFunc("POST "+protocol.ActivationPrefix+"{ref}/answers", a.handleAnswers)
	mux.HandleFunc("GET "+protocol.ESTPrefix+"cacerts", a.handleCACerts)
	mux.HandleFunc("GET "+protocol.ESTPrefix+"csrattrs", a.handleCSRAttrs)
	mux.HandleFunc("POST "+protocol.ESTPrefix+"simpleenroll", a.handleEnroll)
	mux.HandleFunc("POST "+protocol.ESTPrefix+"simplereenroll", a.handleReenroll)
	mux.HandleFunc("POST "+pathTSA, a.handleTSA)
	a.officerRoutes(mux)
	a.remoteRoutes(mux)
	a.validationRoutes(mux) // over HTTPS too, for clients that prefer it
	// The actor outside observe, which reads the route the mux writes
	// into the request it is given.
	return logRequests(log, clientActor(a.metrics.observe(a.ocspGET(mux))))
}

// server is the HTTP face of an Authority.
type server struct {
	*Authority
	log *slog.Logger
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// redactPath hides all but the first group of a reference code in a path.
func redactPath(p string) string {
	p = path.Clean("/" + p)
	rest, ok := strings.CutPrefix(p, protocol.ActivationPrefix)
	if !ok {
		return p
	}
	ref, tail, _ := strings.Cut(rest, "/")
	return protocol.ActivationPrefix + protocol.RedactRef(ref) + "/" + tail
}

// logRequests logs a line per request, but for the validation services
// answered: OCSP, CRLs, CA certificates and time-stamps come by thousands
// a second, carry nothing to audit, and are counted in the metrics (by
// route and status, OCSP and TSA outcomes); what they fail is logged.
func logRequests(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if sw.status < 400 && validationPath(r.URL.Path) {
			return
		}
		log.Info("request", "method", r.Method, "path", redactPath(r.URL.Path), "status", sw.status,
			"bytes", sw.bytes, "ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

// validationPath reports whether p is one of the validation services'.
func validationPath(p string) bool {
	return p == pathOCSP || strings.HasPrefix(p, pathOCSP+"/") || p == pathTSA ||
		strings.HasPrefix(p, "/crl/") || strings.HasPrefix(p, "/ca/")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (a *server) writeError(w http.ResponseWriter, err error) {
	var e *APIError
	var pending *RenewalPendingError
	if errors.As(err, &pending) {
		// RFC 7030 §4.2.3: accepted, not processed yet; ask again later.
		w.Header().Set("Retry-After", strconv.Itoa(int(renewalRetryAfter.Seconds())))
		writeJSON(w, http.StatusAccepted, pending.Request)
		return
	}
	if !errors.As(err, &e) {
		a.log.Error("internal error", "err", err.Error())
		e = apiErr(http.StatusInternalServerError, protocol.CodeInternal, "internal error; the CA operator will find details in the server log")
	}
	if e.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="paraphe-est"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	a.metrics.failures.WithLabelValues(e.Code).Inc()
	writeJSON(w, e.Status, protocol.Error{Code: e.Code, Message: e.Message, AttemptsLeft: e.AttemptsLeft, Reason: e.Reason})
}

func (a *server) serviceDocument(w http.ResponseWriter, r *http.Request) {
	u, _ := url.Parse(a.Config.URL)
	v, _ := url.Parse(a.Config.ValidationURL)
	var csc, remote string
	if a.NeedsToken() {
		csc, remote = a.url(protocol.CSCPrefix), a.url(protocol.RemotePrefix)
	}
	writeJSON(w, http.StatusOK, protocol.ServiceDocument{
		CSC:                csc,
		Remote:             remote,
		Version:            1,
		Name:               a.Config.Name,
		Activation:         a.url(protocol.ActivationPrefix),
		EST:                a.url(protocol.ESTPrefix),
		TSA:                a.url(pathTSA),
		OCSP:               a.validationURL(pathOCSP),
		CRL:                a.validationURL(pathIssuingCRL),
		Endpoints:          []string{hostPort(u.Host, "443"), hostPort(v.Host, "80")},
		RenewalCoupon:      a.Config.RenewalNeedsCoupon,
		CertValidityDays:   a.Config.CertValidityDays,
		RenewalOverlapDays: a.Config.RenewalOverlapDays,
		Renewal:            a.url(protocol.RenewalPrefix),
		Officers:           a.url(protocol.OfficerPrefix),
	})
}

func hostPort(h, port string) string {
	if _, _, err := net.SplitHostPort(h); err == nil {
		return h
	}
	return net.JoinHostPort(h, port)
}

func (a *server) handleQuestions(w http.ResponseWriter, r *http.Request) {
	q, err := a.Questions(r.Context(), r.PathValue("ref"))
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

func (a *server) handleAnswers(w http.ResponseWriter, r *http.Request) {
	client := clientKey(r.RemoteAddr)
	if wait := a.answerLimit.take(client); wait > 0 {
		e := apiErr(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many answers from this network address in a short time: try again later")
		e.RetryAfter = wait
		a.writeError(w, e)
		return
	}
	var in protocol.Answers
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	if err := dec.Decode(&in); err != nil {
		a.writeError(w, apiErr(http.StatusBadRequest, protocol.CodeBadRequest, "the body is not an answers document"))
		return
	}
	auth, err := a.Answer(r.Context(), r.PathValue("ref"), in.Answers)
	if e := (*APIError)(nil); errors.As(err, &e) && e.Code == protocol.CodeBusy {
		// Turned away before any work, and told when to come back: the
		// address is not charged for it, or the clients of one office,
		// waiting for a busy CA as asked, would end refused as too many.
		a.answerLimit.giveBack(client)
	}
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, auth)
}

// EST replies are base64 bodies (RFC 7030 section 4).
func writeBase64(w http.ResponseWriter, contentType string, der []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Transfer-Encoding", "base64")
	enc := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	io.WriteString(w, b.String())
}

func (a *server) handleCACerts(w http.ResponseWriter, r *http.Request) {
	der, err := protocol.MarshalCertsOnly([]*x509.Certificate{a.Issuer, a.Root})
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeBase64(w, "application/pkcs7-mime", der)
}

func (a *server) handleCSRAttrs(w http.ResponseWriter, r *http.Request) {
	der, err := protocol.MarshalCSRAttrs(a.Config.HolderKeyType)
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeBase64(w, "application/csrattrs", der)
}

// readCSR reads a base64 PKCS#10 body (tolerating raw DER, which some
// clients send).
func readCSR(w http.ResponseWriter, r *http.Request) (*x509.CertificateRequest, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return nil, apiErr(http.StatusRequestEntityTooLarge, protocol.CodeBadCSR, "the CSR is too large")
	}
	der, err := base64.StdEncoding.DecodeString(strings.Map(func(c rune) rune {
		if c == '\r' || c == '\n' || c == ' ' || c == '\t' {
			return -1
		}
		return c
	}, string(body)))
	if err != nil {
		der = body
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, apiErr(http.StatusBadRequest, protocol.CodeBadCSR, "the body is not a PKCS#10 certificate request")
	}
	return csr, nil
}

func (a *server) writeIssued(w http.ResponseWriter, cert *x509.Certificate) {
	der, err := protocol.MarshalCertsOnly([]*x509.Certificate{cert, a.Issuer})
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeBase64(w, "application/pkcs7-mime; smime-type=certs-only", der)
}

func (a *server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		a.writeError(w, apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "enrolment needs the reference code and enrolment password (HTTP Basic)"))
		return
	}
	csr, err := readCSR(w, r)
	if err != nil {
		a.writeError(w, err)
		return
	}
	cert, err := a.EnrollCSR(r.Context(), user, pass, csr)
	if err != nil {
		a.writeError(w, err)
		return
	}
	a.log.Info("issued", "serial", serialHex(cert.SerialNumber), "reference", protocol.RedactRef(user))
	a.metrics.issued.WithLabelValues("enrolment").Inc()
	a.writeIssued(w, cert)
}

func (a *server) handleReenroll(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		a.writeError(w, apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "renewal needs the current certificate as TLS client certificate"))
		return
	}
	csr, err := readCSR(w, r)
	if err != nil {
		a.writeError(w, err)
		return
	}
	cert, err := a.ReenrollWith(r.Context(), r.TLS.PeerCertificates[0], csr, ReenrollOptions{
		Coupon: r.Header.Get(protocol.CouponHeader), Confirmed: r.Header.Get(protocol.ConfirmedHeader)})
	if err != nil {
		a.writeError(w, err)
		return
	}
	a.log.Info("renewed", "serial", serialHex(cert.SerialNumber), "predecessor", serialHex(r.TLS.PeerCertificates[0].SerialNumber))
	a.metrics.issued.WithLabelValues("renewal").Inc()
	a.writeIssued(w, cert)
}

// TLSConfig is the server's TLS configuration: its identity, and a request
// (not a demand) for a client certificate, which renewal uses.
func (a *Authority) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{a.TLS},
		ClientAuth:   tls.RequestClientCert,
	}
}

// checkRootCRL says in the log when the root CRL, signed ahead, is about
// to expire or has: validators then reject it, and with it every
// signature that depends on the issuing CA.
func (a *Authority) checkRootCRL(log *slog.Logger, now time.Time) {
	l, err := a.RootCRLInfo()
	switch {
	case err != nil:
		log.Error("no root CRL to serve: sign one with paraphe-ca root crl", "err", err.Error())
	case !now.Before(l.NextUpdate):
		log.Error("the root CRL has expired: sign it again with paraphe-ca root crl", "next_update", l.NextUpdate)
	case l.NextUpdate.Sub(now) < 14*24*time.Hour:
		log.Warn("the root CRL expires soon: sign it again with paraphe-ca root crl", "next_update", l.NextUpdate)
	}
}

// maintain runs the server's rounds until ctx is done: every minute the
// OCSP answers kept are signed again or forgotten, every hour the root
// CRL and the responder's certificate are checked.
func (a *Authority) maintain(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := a.refreshOCSP(now); err != nil {
				log.Error("signing OCSP answers again", "err", err.Error())
			}
			if i%60 == 0 {
				a.checkRootCRL(log, now)
				a.checkResponder(log, now)
			}
		}
	}
}

// checkResponder certifies the OCSP responder's key again when its
// certificate nears its end, and says so in the log.
func (a *Authority) checkResponder(log *slog.Logger, now time.Time) {
	renewed, err := a.renewResponder(now)
	switch {
	case err != nil:
		log.Error("renewing the OCSP responder's certificate", "err", err.Error())
	case renewed:
		c := a.ResponderCert()
		log.Info("OCSP responder certificate renewed", "serial", serialHex(c.SerialNumber), "not_after", c.NotAfter)
	}
}

// maxHeaderBytes bounds a request's line and headers on both listeners:
// the protocol's largest are an OCSP GET (a few hundred bytes) and HTTP
// Basic credentials.
const maxHeaderBytes = 16 << 10

// shutdownTimeout bounds how long Serve waits, when stopping, for the
// requests under way: longer than any may take (WriteTimeout).
const shutdownTimeout = 40 * time.Second

// Serve runs the HTTPS server on l, the plain-HTTP validation server on
// lv and the admin server (AdminHandler) on Authority.Admin, each when not
// nil, until ctx is done; then it stops gracefully: /readyz fails at once,
// the listeners close, the requests under way are finished, and it
// returns nil (an error when some are still not finished after
// shutdownTimeout). Each of l and lv serves at most MaxConnections
// connections at once.
func (a *Authority) Serve(ctx context.Context, l, lv net.Listener, log *slog.Logger) error {
	n := a.MaxConnections
	if n <= 0 {
		n = DefaultMaxConnections
	}
	a.checkRootCRL(log, time.Now())
	a.checkResponder(log, time.Now())
	go a.maintain(ctx, log)
	errc := make(chan error, 3)
	var servers []*http.Server
	start := func(srv *http.Server, l net.Listener, tls bool) {
		servers = append(servers, srv)
		go func() {
			var err error
			if tls {
				err = srv.ServeTLS(l, "", "")
			} else {
				err = srv.Serve(l)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	if l != nil {
		srv := a.httpServer(a.Handler(log), log)
		srv.TLSConfig = a.TLSConfig()
		start(srv, newLimitListener(l, n, log), true)
	}
	if lv != nil {
		start(a.httpServer(a.ValidationHandler(log), log), newLimitListener(lv, n, log), false)
	}
	if a.Admin != nil {
		start(a.httpServer(a.AdminHandler(), log), a.Admin, false)
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	a.draining.Store(true)
	log.Info("stopping: finishing the requests under way")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	errs := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errs <- srv.Shutdown(sctx) }()
	}
	var err error
	for range servers {
		if e := <-errs; e != nil && err == nil {
			err = fmt.Errorf("ca: requests still under way after %v: %w", shutdownTimeout, e)
		}
	}
	return err
}

// httpServer is an http.Server for h with the limits every listener has.
func (a *Authority) httpServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
