package pdf

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// ErrRevoked is returned when the signer's own certificate (or one of its
// chain) is revoked: such a signature would never validate.
var ErrRevoked = errors.New("pdf: a certificate of the chain is revoked")

// dssData is the validation material of a chain: certificates, OCSP
// responses and CRLs (B-LT). A batch fetches it once.
type dssData struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  [][]byte
}

// validationData gathers what a verifier needs to validate chain (and the
// time-stamp's chain) later without the network: every certificate, and an
// OCSP response or a CRL for each one below a root.
func (s *Signer) validationData(ctx context.Context, token []byte) (*dssData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dss != nil {
		return s.dss, nil
	}
	d := &dssData{}
	seen := map[string]bool{}
	add := func(c *x509.Certificate) {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			d.certs = append(d.certs, c)
		}
	}
	for _, c := range s.Chain {
		add(c)
	}
	if token != nil {
		if ts, err := cms.ParseTimestamp(token); err == nil {
			for _, c := range ts.SignedData.Certificates {
				add(c)
			}
		}
	}
	issuerOf := func(c *x509.Certificate) *x509.Certificate {
		for _, o := range d.certs {
			if bytes.Equal(o.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(o) == nil {
				return o
			}
		}
		return nil
	}
	for _, c := range append([]*x509.Certificate{}, d.certs...) {
		if bytes.Equal(c.RawIssuer, c.RawSubject) {
			continue // a root is its own authority
		}
		issuer := issuerOf(c)
		if issuer == nil {
			return nil, fmt.Errorf("%w: the issuer of %q is not in the chain", ErrRevocationNet, c.Subject.CommonName)
		}
		if len(c.OCSPServer) > 0 {
			resp, err := s.fetchOCSP(ctx, c, issuer)
			if err == nil {
				d.ocsps = append(d.ocsps, resp)
				continue
			}
			if errors.Is(err, ErrRevoked) || len(c.CRLDistributionPoints) == 0 {
				return nil, err
			}
		}
		if len(c.CRLDistributionPoints) == 0 {
			return nil, fmt.Errorf("%w: %q names no OCSP responder or CRL", ErrRevocationNet, c.Subject.CommonName)
		}
		crl, err := s.fetchCRL(ctx, c, issuer)
		if err != nil {
			return nil, err
		}
		d.crls = append(d.crls, crl)
	}
	s.dss = d
	return d, nil
}

func (s *Signer) get(ctx context.Context, method, url, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 32<<20))
}

func (s *Signer) fetchOCSP(ctx context.Context, c, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(c, issuer, nil)
	if err != nil {
		return nil, err
	}
	der, err := s.get(ctx, http.MethodPost, c.OCSPServer[0], "application/ocsp-request", req)
	if err != nil {
		return nil, fmt.Errorf("%w: OCSP: %v", ErrRevocationNet, err)
	}
	resp, err := ocsp.ParseResponseForCert(der, c, issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: OCSP reply: %v", ErrRevocationNet, err)
	}
	switch resp.Status {
	case ocsp.Good:
		return der, nil
	case ocsp.Revoked:
		return nil, fmt.Errorf("%w: %q", ErrRevoked, c.Subject.CommonName)
	}
	return nil, fmt.Errorf("%w: the OCSP responder does not know %q", ErrRevocationNet, c.Subject.CommonName)
}

func (s *Signer) fetchCRL(ctx context.Context, c, issuer *x509.Certificate) ([]byte, error) {
	der, err := s.get(ctx, http.MethodGet, c.CRLDistributionPoints[0], "", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: CRL: %v", ErrRevocationNet, err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err == nil {
		err = crl.CheckSignatureFrom(issuer)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: CRL of %q: %v", ErrRevocationNet, issuer.Subject.CommonName, err)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return nil, fmt.Errorf("%w: %q", ErrRevoked, c.Subject.CommonName)
		}
	}
	return der, nil
}

// appendDSS writes the second update of a B-LT signature: the catalog's
// /DSS with the certificates, OCSP responses and CRLs. It returns the number
// of bytes written.
func (s *Signer) appendDSS(first *update, doc *document, prevXref, base int64, contents []byte, out io.Writer) (int64, error) {
	s.mu.Lock()
	d := s.dss
	s.mu.Unlock()
	u := first.following(prevXref)
	u.gens = first.gens
	streams := func(items [][]byte) cos.Array {
		var a cos.Array
		for _, it := range items {
			a = append(a, u.add(&cos.Stream{Dict: cos.Dict{}, Raw: it}))
		}
		return a
	}
	var certs [][]byte
	for _, c := range d.certs {
		certs = append(certs, c.Raw)
	}
	// A /DSS already there (an earlier B-LT signature) is extended, not replaced.
	old, _ := doc.f.ResolveDict(doc.catalog["DSS"])
	merged := func(key cos.Name, add cos.Array) cos.Array {
		prev, _ := doc.f.Resolve(old[key])
		pa, _ := prev.(cos.Array)
		return append(append(cos.Array{}, pa...), add...)
	}
	dss := cos.Dict{"Type": cos.Name("DSS"), "Certs": merged("Certs", streams(certs))}
	if ocsps := merged("OCSPs", streams(d.ocsps)); len(ocsps) > 0 {
		dss["OCSPs"] = ocsps
	}
	if crls := merged("CRLs", streams(d.crls)); len(crls) > 0 {
		dss["CRLs"] = crls
	}
	// The signature's own entry (/VRI), naming its share of the arrays
	// (Adobe's LTV check looks for it).
	vri := cos.Dict{"Cert": dss["Certs"].(cos.Array)[len(dss["Certs"].(cos.Array))-len(certs):]}
	if n := len(d.ocsps); n > 0 {
		vri["OCSP"] = dss["OCSPs"].(cos.Array)[len(dss["OCSPs"].(cos.Array))-n:]
	}
	if n := len(d.crls); n > 0 {
		vri["CRL"] = dss["CRLs"].(cos.Array)[len(dss["CRLs"].(cos.Array))-n:]
	}
	sum := sha1.Sum(contents)
	vris, _ := doc.f.ResolveDict(old["VRI"])
	vris = copyDict(vris)
	vris[cos.Name(strings.ToUpper(hex.EncodeToString(sum[:])))] = u.add(vri)
	dss["VRI"] = u.add(vris)
	doc.catalog["DSS"] = u.add(dss)
	u.set(doc.catalogRef, doc.catalog)
	data, _, xrefAt := u.serialize(base)
	data = finish(data, base+int64(xrefAt))
	n, err := out.Write(data)
	return int64(n), err
}
