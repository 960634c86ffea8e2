package local

import (
	"crypto/x509"
	"errors"
	"net/http"
	"path/filepath"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust"
)

// ErrTrustNotAllowed is returned when the machine policy does not let users
// trust certificates of their own.
var ErrTrustNotAllowed = errors.New("the machine policy does not let users trust certificates")

// UserMayTrust reports whether the user may trust certificates of their
// own: always without a machine policy, else where the policy allows it.
func UserMayTrust(p *config.Policy) bool { return p == nil || p.UserMay.Trust }

// UserTrust is the user's own store of trusted certificates, in their
// Paraphe folder.
func UserTrust() (*trust.Store, error) {
	home, err := config.Home()
	if err != nil {
		return nil, err
	}
	return trust.NewStore(filepath.Join(home, "trust")), nil
}

// TrustedLists is the EU trusted lists as the policy (p may be nil) sets
// them, cached in the user's Paraphe folder, fetched through the policy's
// proxy; nil when the policy does not use them.
func TrustedLists(p *config.Policy) (*trust.TrustedLists, error) {
	var t config.Trust
	if p != nil {
		t = p.Trust
	}
	if !t.UsesTrustedLists() {
		return nil, nil
	}
	home, err := config.Home()
	if err != nil {
		return nil, err
	}
	tl := &trust.TrustedLists{URL: trust.LOTL, Pins: trust.OfficialJournalPins(), Journal: trust.OfficialJournalURL,
		Cache: filepath.Join(home, "trusted-lists"), Client: HTTPClient(p)}
	if t.LOTL != "" {
		tl.URL = t.LOTL
	}
	if t.LOTLPins != "" {
		pins, err := trust.ReadFile(t.LOTLPins)
		if err != nil {
			return nil, err
		}
		tl.Pins, tl.Journal = pins, ""
	}
	return tl, nil
}

// HTTPClient reaches the world as the policy says (p may be nil: the
// system's proxy settings).
func HTTPClient(p *config.Policy) *http.Client {
	if p != nil {
		if hc, err := netclient.NewHTTPClient(p, netclient.ClientOptions{}); err == nil {
			return hc
		}
	}
	proxy, _ := netclient.ProxyFunc("system")
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: proxy}}
}

// TrustSources are where this computer's trust comes from: the policy's
// certificate files and bundles, the user's own store where allowed, the
// EU trusted lists where used.
func TrustSources(p *config.Policy) (*trust.Sources, error) {
	s := &trust.Sources{}
	if p != nil {
		s.Policy, s.Bundles = p.Trust.Certificates, p.Trust.Bundles
	}
	if UserMayTrust(p) {
		st, err := UserTrust()
		if err != nil {
			return nil, err
		}
		s.User = st
	}
	tl, err := TrustedLists(p)
	if err != nil {
		return nil, err
	}
	s.TrustedLists = tl
	return s, nil
}

// VerifyOptions trust what this computer trusts: the policy's CA anchors
// (p may be nil), its certificate files and bundles, the user's own
// certificates, the EU trusted lists (from their cache: "paraphe trust
// update" and the desktop app refresh it) and, unless the policy says
// otherwise, the system's roots; through the policy's proxy. Sources that
// could not be read come back as warnings: verification goes on without
// them.
func VerifyOptions(p *config.Policy, online bool) (pdf.VerifyOptions, []error) {
	opts := pdf.VerifyOptions{Online: online, HTTP: HTTPClient(p)}
	if p != nil {
		for _, s := range p.CA.Anchors {
			if fp, err := config.ParseFingerprint(s); err == nil {
				opts.Anchors = append(opts.Anchors, fp)
			}
		}
	}
	var warnings []error
	if src, err := TrustSources(p); err != nil {
		warnings = append(warnings, err)
	} else {
		opts.Trust, warnings = src.Anchors()
	}
	if p == nil || p.Trust.UsesSystemRoots() {
		if sys, err := x509.SystemCertPool(); err == nil {
			opts.Roots = sys
		}
	}
	return opts, warnings
}
