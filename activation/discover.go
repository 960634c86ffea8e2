package activation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/protocol"
)

// CAInfo is what a CA says about itself to someone who does not trust it
// yet: its service document and the roots its TLS chain was found to end at.
type CAInfo struct {
	Service *protocol.ServiceDocument
	Roots   []*x509.Certificate
	// Anchors are the roots' SHA-256 fingerprints, as a policy names them.
	Anchors []string
}

// DiscoverCA learns the anchors of the CA at caURL, reached through proxy
// (a policy proxy setting), for writing a policy that names it. It fetches
// the service document and the CA certificates (EST cacerts) without
// verifying the server, keeps the self-signed roots among them (only the one
// whose fingerprint is want, when want is not empty), then asks again
// through a client that trusts those roots alone: the TLS chain must end at
// one of them, or the error is a *netclient.AnchorError naming what it ends at.
//
// Without want this is trust on first use: whoever answers at caURL the
// first time is believed. The caller should show the fingerprint so that
// it can be compared with the one the CA's operator publishes.
func DiscoverCA(ctx context.Context, caURL, proxy, want string) (*CAInfo, error) {
	if u, err := url.Parse(caURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, &config.FieldError{Field: "ca.url", Reason: config.ReasonHTTPS, Detail: caURL}
	}
	var wantFP []byte
	if want != "" {
		fp, err := config.ParseFingerprint(want)
		if err != nil {
			return nil, &config.FieldError{Field: "ca.anchors[0]", Reason: config.ReasonFingerprint, Detail: want}
		}
		wantFP = fp
	}
	p := &config.Policy{Version: 1, CA: config.CA{URL: caURL}, Proxy: proxy}
	blind, err := New(p, netclient.ClientOptions{Discover: true})
	if err != nil {
		return nil, err
	}
	certs, err := blind.fetchCACerts(ctx)
	if err != nil {
		return nil, err
	}
	info := &CAInfo{}
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		if !c.IsCA || c.CheckSignatureFrom(c) != nil || (wantFP != nil && !bytes.Equal(sum[:], wantFP)) {
			continue
		}
		info.Roots = append(info.Roots, c)
		info.Anchors = append(info.Anchors, hex.EncodeToString(sum[:]))
	}
	if len(info.Roots) == 0 {
		return nil, ErrWrongCA
	}
	p.CA.Anchors = info.Anchors
	verified, err := New(p, netclient.ClientOptions{})
	if err != nil {
		return nil, err
	}
	if info.Service, err = verified.Discover(ctx); err != nil {
		return nil, err
	}
	if _, err := verified.CACerts(ctx); err != nil {
		return nil, err
	}
	return info, nil
}

// fetchCACerts returns the CA certificates (EST cacerts) without looking
// for an anchor among them.
func (c *Client) fetchCACerts(ctx context.Context) ([]*x509.Certificate, error) {
	doc, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	der, err := c.getBase64(ctx, doc.EST+"cacerts", "application/pkcs7-mime")
	if err != nil {
		return nil, err
	}
	certs, err := protocol.ParseCertsOnly(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return certs, nil
}
