package pdf

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/paraphe/paraphe/cms"
)

// The CMS (RFC 5652) SignedData of a PAdES baseline signature (ETSI EN
// 319 142-1, CAdES detached), built by cms.Builder: signed attributes
// content-type, message-digest and signing-certificate-v2 — no
// signing-time, the claimed time is the signature dictionary's /M — and,
// for B-T, a signature time-stamp token as an unsigned attribute.

// cmsBuilder builds the SignedData of one signature.
type cmsBuilder struct {
	signer crypto.Signer
	chain  []*x509.Certificate // leaf first; embedded as is
}

func (c *cmsBuilder) builder() *cms.Builder { return &cms.Builder{Key: c.signer, Chain: c.chain} }

// build signs digest (the SHA-256 of the ByteRange bytes) and returns the
// DER ContentInfo. timestamp, when not nil, gets the signature value and
// returns the token.
func (c *cmsBuilder) build(digest []byte, timestamp func(sig []byte) ([]byte, error)) ([]byte, error) {
	b := c.builder()
	s, err := b.Sign(digest)
	if err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	if timestamp != nil {
		token, err := timestamp(s.Value)
		if err != nil {
			return nil, err
		}
		s.AddTimestamp(token)
	}
	return b.Detached(s, nil)
}

// size is the longest SignedData build can produce with a time-stamp token
// like sample (nil without one): what the /Contents placeholder must hold.
func (c *cmsBuilder) size(sample []byte) (int, error) { return c.builder().MaxDetachedSize(sample) }

var errChain = cms.ErrNoCertificate
