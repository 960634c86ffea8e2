package local

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pdf"
)

// ExchangeClient reaches the firm's exchange as the policy says (p may be
// nil): its proxy, and a TLS chain that ends at the CA's anchors or at
// one of the system's roots, since clients reach the same server with
// their browsers; no time limit on a request, so that uploads and
// downloads of any size go through (the caller's context bounds them).
func ExchangeClient(p *config.Policy) *http.Client {
	if p != nil {
		if hc, err := netclient.NewHTTPClient(p, netclient.ClientOptions{SystemRoots: true, Timeout: -1}); err == nil {
			return hc
		}
	}
	proxy, _ := netclient.ProxyFunc("system")
	return &http.Client{Transport: &http.Transport{Proxy: proxy, ForceAttemptHTTP2: true, TLSHandshakeTimeout: 15 * time.Second}}
}

// ErrNoEncryptionCertificate: the recipient registered no encryption
// certificate with the exchange (or is a new client, who has none yet).
var ErrNoEncryptionCertificate = errors.New("the recipient has no encryption certificate on the exchange")

// RecipientCertError is a recipient's encryption certificate the sender
// does not encrypt to. Reason: "untrusted" (it does not chain to what
// this computer trusts), "address" (it is not for the recipient's
// e-mail address), "usage" and "key" (it may not receive, cms's
// reasons), "expired", or "fingerprint" (not the one the sender was told).
type RecipientCertError struct {
	Reason      string
	Detail      string
	Fingerprint string // SHA-256 of the certificate, hex, to compare with the recipient
	Err         error
}

// RecipientCertReasons are every RecipientCertError reason (own_usage:
// the user's own certificate, to register, is for signing), for the
// catalogue's tests.
var RecipientCertReasons = []string{"untrusted", "address", "usage", "key", "expired", "fingerprint", "own_usage"}

func (e *RecipientCertError) Error() string {
	return fmt.Sprintf("the recipient's encryption certificate (%s) is not used: %s: %s", e.Fingerprint, e.Reason, e.Detail)
}

func (e *RecipientCertError) Unwrap() error { return e.Err }

// Fingerprint is a certificate's SHA-256, hex, as the exchange's pages
// and paraphe receive --register show it.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// CheckRecipient judges the encryption certificate an exchange handed
// out for the recipient at email (chain: the leaf, then what came with
// it), before anything is encrypted to it: since the exchange could hand
// out a certificate of its own and read what is encrypted to that, the
// leaf must be for email, allowed to receive (cms.CheckRecipient), valid
// now, and either chain to what this computer trusts (the policy's
// anchors and certificates, the user's own, the system's roots) or be
// the one whose SHA-256 the sender was told (fingerprint, compared out of
// band with the recipient; empty: none).
func CheckRecipient(p *config.Policy, chain []*x509.Certificate, email, fingerprint string, now time.Time) error {
	if len(chain) == 0 {
		return ErrNoEncryptionCertificate
	}
	leaf := chain[0]
	bad := func(reason, detail string, err error) error {
		return &RecipientCertError{Reason: reason, Detail: detail, Fingerprint: Fingerprint(leaf), Err: err}
	}
	var re *cms.RecipientError
	if err := cms.CheckRecipient(leaf); errors.As(err, &re) {
		return bad(re.Reason, re.Detail, err)
	}
	if !slices.ContainsFunc(leaf.EmailAddresses, func(a string) bool { return strings.EqualFold(a, email) }) {
		return bad("address", strings.Join(leaf.EmailAddresses, ", "), nil)
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return bad("expired", leaf.NotAfter.UTC().Format(time.DateOnly), nil)
	}
	if fingerprint != "" {
		want, err := config.ParseFingerprint(fingerprint)
		if got := sha256.Sum256(leaf.Raw); err != nil || !bytes.Equal(want, got[:]) {
			return bad("fingerprint", fingerprint, err)
		}
		return nil
	}
	if _, err := leaf.Verify(recipientVerifyOptions(p, chain, now)); err != nil {
		return bad("untrusted", leaf.Issuer.String(), err)
	}
	return nil
}

// recipientVerifyOptions are the roots a recipient's certificate may
// chain to: the policy's CA anchors (found among the chain's
// certificates), IT's and the user's trusted certificates and bundles,
// and the system's roots where the policy counts them. The EU trusted
// lists name signature services, not e-mail encryption: left out.
func recipientVerifyOptions(p *config.Policy, chain []*x509.Certificate, now time.Time) x509.VerifyOptions {
	v, _ := VerifyOptions(p, false)
	roots := x509.NewCertPool()
	if v.Roots != nil {
		roots = v.Roots.Clone()
	}
	for _, a := range v.Trust {
		if a.Source != pdf.SourceTrustedList {
			roots.AddCert(a.Cert)
		}
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		sum := sha256.Sum256(c.Raw)
		if slices.ContainsFunc(v.Anchors, func(a []byte) bool { return bytes.Equal(a, sum[:]) }) {
			roots.AddCert(c)
		} else {
			inter.AddCert(c)
		}
	}
	return x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
}
