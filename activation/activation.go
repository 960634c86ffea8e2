// Package activation is the client side of the CA protocol: it discovers
// the CA's services, fetches a reference's secret questions, sends the
// answers, and enrols a key generated in a pkcs.Store over EST (RFC 7030).
//
// Every request goes through the http.Client built by netclient from the
// machine policy, so proxy settings and TLS anchors apply to all of them.
package activation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// Errors a caller branches on. Refusals by the CA arrive as *ServerError.
var (
	// ErrUnreachable: no HTTP answer from the CA (DNS, connection, proxy, timeout).
	ErrUnreachable = errors.New("activation: the CA cannot be reached")
	// ErrMalformedReply: the CA (or something in between) answered, but not
	// in the protocol's format.
	ErrMalformedReply = errors.New("activation: the CA's reply is not understood")
	// ErrWrongCA: the CA's certificates do not chain to the policy anchors.
	ErrWrongCA = errors.New("activation: the CA's certificates do not match the policy anchors")
)

// ServerError is a refusal by the CA, with the protocol's error code.
type ServerError struct {
	Status       int
	Code         string // protocol.Code*
	Message      string // the server's words, in English
	AttemptsLeft *int
	// Reason is a registration officer's own words, when they refused
	// a renewal (protocol.CodeRenewalRefused).
	Reason string
	// RetryAfter is when the CA asks to be asked again (its Retry-After
	// header); zero when it did not say.
	RetryAfter time.Duration
}

// StateError is the refusal a reference in state (protocol.State*) amounts
// to: activation can only go on from StatePending.
func StateError(state string) *ServerError {
	code := protocol.CodeUnknownReference
	switch state {
	case protocol.StateExpired:
		code = protocol.CodeExpired
	case protocol.StateLocked:
		code = protocol.CodeLocked
	case protocol.StateUsed:
		code = protocol.CodeUsed
	}
	return &ServerError{Code: code}
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("activation: CA refused (%d %s): %s", e.Status, e.Code, e.Message)
}

// Client talks to one CA.
type Client struct {
	// Busy, when set, is told each time the CA is too busy to check
	// answers now and the client waits that long before sending them
	// again (see Answer), so that the holder can be told why nothing
	// seems to happen.
	Busy func(wait time.Duration)

	http    *http.Client
	base    *url.URL
	anchors [][]byte
	doc     *protocol.ServiceDocument
}

// New returns a client for the CA the policy names.
func New(p *config.Policy, opt netclient.ClientOptions) (*Client, error) {
	hc, err := netclient.NewHTTPClient(p, opt)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(p.CA.URL)
	if err != nil {
		return nil, fmt.Errorf("activation: %w", err)
	}
	c := &Client{http: hc, base: base}
	for _, a := range p.CA.Anchors {
		fp, _ := config.ParseFingerprint(a)
		c.anchors = append(c.anchors, fp)
	}
	return c, nil
}

// do sends a request and returns the body of a 2xx reply; other replies
// become *ServerError (or ErrMalformedReply when they are not ours).
func (c *Client) do(req *http.Request, wantType string) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		var ae *netclient.AnchorError
		var ce *netclient.CertificateError
		switch {
		case errors.As(err, &ae):
			return nil, ae
		case errors.As(err, &ce):
			return nil, ce
		}
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: reading reply: %w", ErrUnreachable, err)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusAccepted {
		// A renewal waiting for a registration officer (RFC 7030 §4.2.3).
		var r protocol.RenewalRequest
		if ct != "application/json" || json.Unmarshal(body, &r) != nil || r.State != protocol.RenewalAwaiting {
			return nil, fmt.Errorf("%w: HTTP %s from %s", ErrMalformedReply, resp.Status, req.URL.Host)
		}
		return nil, &AwaitingApprovalError{Request: r}
	}
	if resp.StatusCode/100 != 2 {
		var pe protocol.Error
		if ct == "application/json" && json.Unmarshal(body, &pe) == nil && pe.Code != "" {
			return nil, &ServerError{Status: resp.StatusCode, Code: pe.Code, Message: pe.Message, AttemptsLeft: pe.AttemptsLeft,
				Reason: pe.Reason, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
		}
		return nil, fmt.Errorf("%w: HTTP %s from %s", ErrMalformedReply, resp.Status, req.URL.Host)
	}
	if ct != wantType {
		return nil, fmt.Errorf("%w: content type %q, expected %q", ErrMalformedReply, ct, wantType)
	}
	return body, nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		return time.Duration(max(0, s)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func (c *Client) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("activation: %w", err)
	}
	body, err := c.do(req, "application/json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return nil
}

// ErrNoTSA: the CA's time-stamping authority could not be learnt (its
// service document did not come); the cause is wrapped.
var ErrNoTSA = errors.New("activation: the CA's time-stamping address cannot be obtained")

// SigningServices returns what signing at level needs from the policy's
// CA: the HTTP client (the policy's proxy and trust), and for levels with a
// time-stamp the CA's time-stamping authority, from its service document.
func SigningServices(ctx context.Context, p *config.Policy, timestamped bool) (*http.Client, string, error) {
	hc, err := netclient.NewHTTPClient(p, netclient.ClientOptions{})
	if err != nil || !timestamped {
		return hc, "", err
	}
	c, err := New(p, netclient.ClientOptions{})
	if err != nil {
		return nil, "", err
	}
	doc, err := c.Discover(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrNoTSA, err)
	}
	return hc, doc.TSA, nil
}

// Discover fetches the service document (once per client).
func (c *Client) Discover(ctx context.Context) (*protocol.ServiceDocument, error) {
	if c.doc != nil {
		return c.doc, nil
	}
	var doc protocol.ServiceDocument
	if err := c.getJSON(ctx, c.base.JoinPath(protocol.ServicePath).String(), &doc); err != nil {
		return nil, err
	}
	for _, u := range []string{doc.Activation, doc.EST} {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || !strings.HasSuffix(pu.Path, "/") {
			return nil, fmt.Errorf("%w: service document URL %q", ErrMalformedReply, u)
		}
	}
	c.doc = &doc
	return c.doc, nil
}

// Questions returns the questions and state of a reference code. The code
// must already be in canonical form (protocol.ParseRefCode).
func (c *Client) Questions(ctx context.Context, ref string) (*protocol.Questions, error) {
	doc, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	var q protocol.Questions
	if err := c.getJSON(ctx, doc.Activation+url.PathEscape(ref)+"/questions", &q); err != nil {
		return nil, err
	}
	if q.State == protocol.StatePending && len(q.Questions) == 0 {
		return nil, fmt.Errorf("%w: no questions for a pending reference", ErrMalformedReply)
	}
	return &q, nil
}

// Answer sends the answers (normalised here as on the server) and returns
// the one-time authorization. A CA too busy to check them now (503,
// protocol.CodeBusy) counts nothing and says when to come back: Answer
// waits that long (told to Busy), a little more at random so that the
// clients it turned away do not all come back at once, and sends them
// again, as long as ctx leaves time for it (busyPatience without a
// deadline); then it returns the CA's refusal.
func (c *Client) Answer(ctx context.Context, ref string, answers []string) (*protocol.Authorization, error) {
	doc, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	norm := make([]string, len(answers))
	for i, a := range answers {
		norm[i] = protocol.NormalizeAnswer(a)
	}
	body, _ := json.Marshal(protocol.Answers{Answers: norm})
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(busyPatience)
	}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, doc.Activation+url.PathEscape(ref)+"/answers", bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("activation: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		reply, err := c.do(req, "application/json")
		var se *ServerError
		if errors.As(err, &se) && se.Code == protocol.CodeBusy {
			wait := busyWait(se.RetryAfter)
			if time.Until(deadline) < wait {
				return nil, err
			}
			if c.Busy != nil {
				c.Busy(wait)
			}
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		var auth protocol.Authorization
		if err := json.Unmarshal(reply, &auth); err != nil || auth.Code == "" {
			return nil, fmt.Errorf("%w: authorization", ErrMalformedReply)
		}
		return &auth, nil
	}
}

// busyPatience bounds how long Answer waits for a busy CA when its
// context has no deadline.
const busyPatience = 2 * time.Minute

// busyWait is how long to wait after a busy CA asked for retryAfter: at
// least a second, at most a minute, and up to a quarter more at random.
func busyWait(retryAfter time.Duration) time.Duration {
	d := min(max(retryAfter, time.Second), time.Minute)
	return d + rand.N(d/4)
}

// sleep waits d, or until ctx ends (its error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) getBase64(ctx context.Context, u, wantType string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("activation: %w", err)
	}
	body, err := c.do(req, wantType)
	if err != nil {
		return nil, err
	}
	return decodeBase64(body)
}

func decodeBase64(body []byte) ([]byte, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %w", ErrMalformedReply, err)
	}
	return der, nil
}

// CACerts returns the CA's certificates (EST cacerts) after checking that
// one of them is a policy anchor.
func (c *Client) CACerts(ctx context.Context) ([]*x509.Certificate, error) {
	certs, err := c.fetchCACerts(ctx)
	if err != nil {
		return nil, err
	}
	for _, cert := range certs {
		if c.isAnchor(cert) {
			return certs, nil
		}
	}
	return nil, ErrWrongCA
}

func (c *Client) isAnchor(cert *x509.Certificate) bool {
	sum := sha256.Sum256(cert.Raw)
	for _, a := range c.anchors {
		if bytes.Equal(sum[:], a) {
			return true
		}
	}
	return false
}

// KeyType returns the key type the CA asks for (EST csrattrs).
func (c *Client) KeyType(ctx context.Context) (string, error) {
	doc, err := c.Discover(ctx)
	if err != nil {
		return "", err
	}
	der, err := c.getBase64(ctx, doc.EST+"csrattrs", "application/csrattrs")
	if err != nil {
		return "", err
	}
	kt, err := protocol.ParseCSRAttrs(der)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return kt, nil
}

// Enroll sends a CSR for key (EST simpleenroll) authenticated by the
// reference and authorization codes, and returns the issued certificate
// followed by the rest of the chain up to the root.
func (c *Client) Enroll(ctx context.Context, ref, authCode string, key crypto.Signer) ([]*x509.Certificate, error) {
	return c.enroll(ctx, "simpleenroll", key, func(req *http.Request, csr *x509.CertificateRequest) {
		req.SetBasicAuth(ref, protocol.EnrollPassword(authCode, csr.RawSubjectPublicKeyInfo))
	})
}

// Reenroll sends a CSR for a new key (EST simplereenroll), with a coupon
// code when the CA asks for one and the digest of the details the holder
// confirmed (RenewalDetails); the client must have been built with the
// current certificate and key in ClientOptions.
func (c *Client) Reenroll(ctx context.Context, key crypto.Signer, coupon, confirmed string) ([]*x509.Certificate, error) {
	return c.enroll(ctx, "simplereenroll", key, func(req *http.Request, _ *x509.CertificateRequest) {
		if coupon != "" {
			req.Header.Set(protocol.CouponHeader, coupon)
		}
		if confirmed != "" {
			req.Header.Set(protocol.ConfirmedHeader, confirmed)
		}
	})
}

// Renew obtains the successor of the certificate of current: a new key of
// the type the CA asks for, in the same store and behind the same PIN,
// enrolled over mutual TLS with current. The client must have been built
// with current as its TLS certificate (ClientFor). confirmed are the
// details (RenewalDetails) the holder was shown and confirmed.
//
// When the CA's renewals need a registration officer's approval that
// this one does not have yet, the request is made (once) and Renew
// returns an *AwaitingApprovalError before any key is generated: Renew
// again once it is approved.
func (c *Client) Renew(ctx context.Context, store pkcs.Store, pin []byte, coupon string, confirmed *protocol.RenewalDetails) (*pkcs.Key, error) {
	if confirmed.ApprovalRequired && (confirmed.Request == nil || confirmed.Request.State != protocol.RenewalApproved) {
		if _, err := c.RequestRenewal(ctx, confirmed.Digest); err != nil {
			return nil, err
		}
	}
	keyType, err := c.KeyType(ctx)
	if err != nil {
		return nil, err
	}
	return newCertifiedKey(store, keyType, pin, func(key *pkcs.Key) ([]*x509.Certificate, error) {
		return c.Reenroll(ctx, key, coupon, confirmed.Digest)
	})
}

// newCertifiedKey generates a key in store, has enrol get its chain, and
// stores the chain; on any failure the new key is deleted, so nothing is
// left behind.
func newCertifiedKey(store pkcs.Store, keyType string, pin []byte, enrol func(*pkcs.Key) ([]*x509.Certificate, error)) (*pkcs.Key, error) {
	key, err := store.Generate(keyType, pin)
	if err != nil {
		return nil, err
	}
	chain, err := enrol(key)
	if err == nil {
		err = store.SetChain(key.ID, chain)
	}
	if err != nil {
		store.Delete(key.ID)
		return nil, err
	}
	key.Chain = chain
	return key, nil
}

// TLSCertificate presents an unlocked key and its chain as a TLS client
// certificate, for renewal.
func TLSCertificate(key *pkcs.Key) *tls.Certificate {
	tc := &tls.Certificate{PrivateKey: key, Leaf: key.Chain[0]}
	for _, c := range key.Chain {
		if !bytes.Equal(c.RawIssuer, c.RawSubject) { // the root stays home
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
	}
	return tc
}

func (c *Client) enroll(ctx context.Context, op string, key crypto.Signer, auth func(*http.Request, *x509.CertificateRequest)) ([]*x509.Certificate, error) {
	doc, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	caCerts, err := c.CACerts(ctx)
	if err != nil {
		return nil, err
	}
	der, err := pkcs.NewCSR(key)
	if err != nil {
		return nil, err
	}
	csr, _ := x509.ParseCertificateRequest(der)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, doc.EST+op, strings.NewReader(base64.StdEncoding.EncodeToString(der)))
	if err != nil {
		return nil, fmt.Errorf("activation: %w", err)
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.Header.Set("Content-Transfer-Encoding", "base64")
	auth(req, csr)
	// The CA answers a retried enrolment (same key, same authorization) with
	// the certificate it already issued, so a reply lost on the way is asked
	// for again rather than costing the holder their reference code.
	var body []byte
	for try := 0; ; try++ {
		body, err = c.do(req, "application/pkcs7-mime")
		if err == nil || !errors.Is(err, ErrUnreachable) || try == 2 || ctx.Err() != nil {
			break
		}
		req.Body, _ = req.GetBody()
	}
	if err != nil {
		return nil, err
	}
	p7, err := decodeBase64(body)
	if err != nil {
		return nil, err
	}
	issued, err := protocol.ParseCertsOnly(p7)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return c.buildChain(issued, caCerts, key.Public())
}

// buildChain finds the certificate issued for our key and checks that it
// chains to a policy anchor; it returns leaf, intermediates, root.
func (c *Client) buildChain(issued, caCerts []*x509.Certificate, pub crypto.PublicKey) ([]*x509.Certificate, error) {
	var leaf *x509.Certificate
	for _, cert := range issued {
		if k, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && k.Equal(pub) {
			leaf = cert
		}
	}
	if leaf == nil {
		return nil, fmt.Errorf("%w: the certificate issued is not for the key sent", ErrMalformedReply)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, cert := range append(issued, caCerts...) {
		if c.isAnchor(cert) {
			roots.AddCert(cert)
		} else if cert != leaf {
			inter.AddCert(cert)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: time.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongCA, err)
	}
	return chains[0], nil
}

// Activate generates a key of auth.KeyType in store behind pin, enrols it
// with the reference's authorization and stores the chain beside it. When
// enrolment fails the new key is deleted, so a failed activation leaves
// nothing behind (Enroll has already retried a reply lost in transit).
func (c *Client) Activate(ctx context.Context, store pkcs.Store, ref string, auth *protocol.Authorization, pin []byte) (*pkcs.Key, error) {
	return newCertifiedKey(store, auth.KeyType, pin, func(key *pkcs.Key) ([]*x509.Certificate, error) {
		return c.Enroll(ctx, ref, auth.Code, key)
	})
}
