package pdf

import (
	"context"
	"os"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Signatures outside PDFs. A CAdES file (.p7m, .p7s: ETSI EN 319 122-1) is
// a SignedData over any content; its signers are judged here by the rules
// PDF signatures are judged by — integrity, signing certificate, its chain
// to an anchor at the time a time-stamp proves, revocation, weak
// algorithms, level — and reported in the same words. Reading the file is
// the caller's (package cades); so is signing it, with the time-stamps and
// validation data a Signer gathers for its batch.

// VerifySignedData judges every signer of sd, a SignedData that signs
// content outside any PDF: digest returns the content's digest under a
// hash a signer names (an error from it ends verification: the content
// could not be read). name is what the report calls the file. Each
// signer is a signature of the report, without a field, its level named
// as CAdES's baseline levels are (B-B, B-T, B-LT) when it carries a
// signing-certificate attribute, as PKCS7-B… otherwise.
func VerifySignedData(ctx context.Context, sd *cms.SignedData, digest func(cms.Hash) ([]byte, error), name string, o VerifyOptions) (*Report, error) {
	v := &verifier{o: o, now: time.Now(), dss: &dssContent{offset: -1}}
	if o.Now != nil {
		v.now = o.Now()
	}
	v.certs = append(v.certs, sd.Certificates...)
	var all []*examined
	var readErr error
	for _, si := range sd.Signers {
		e := &examined{outside: true, sd: sd}
		e.rep.Kind, e.rep.Revocation, e.rep.ValidationTime, e.rep.CAdES = KindSignature, RevocationNotChecked, v.now, true
		v.checkSigner(e, si, func(alg cms.Algorithms) []byte {
			d, err := digest(alg.Digest)
			if err != nil {
				readErr = err
				return nil
			}
			return d
		})
		if readErr != nil {
			return nil, readErr
		}
		all = append(all, e)
	}
	v.anchors = newAnchorSet(v.o, v.certs)
	rep := &Report{File: name, ValidationTime: v.now}
	for _, e := range all {
		if !e.broken {
			v.judgeSignature(ctx, e, nil)
		}
		e.rep.Level = levelOf(e, all, v)
		conclude(&e.rep)
		rep.Signatures = append(rep.Signatures, e.rep)
	}
	return rep, nil
}

// Timestamp returns a time-stamp token over data from the batch's
// time-stamping authority (Options.TSA), checked to answer this request,
// and the time it states.
func (s *Signer) Timestamp(ctx context.Context, data []byte) ([]byte, time.Time, error) {
	if s.Opts.TSA == "" {
		return nil, time.Time{}, ErrNeedTSA
	}
	return (&tsaClient{url: s.Opts.TSA, http: s.http()}).stamp(ctx, data)
}

// ValidationData returns what validates the batch's signatures later
// without the network (B-LT): every certificate of the signer's chain and
// of the time-stamping authority's, and an OCSP response or a CRL for each
// one below a root. It is fetched once per batch; a revoked certificate
// is ErrRevoked, an unreachable responder ErrRevocationNet.
func (s *Signer) ValidationData(ctx context.Context) (*cms.Validation, error) {
	if s.Opts.TSA == "" {
		return nil, ErrNeedTSA
	}
	sample, err := s.tokenSample(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.validationData(ctx, sample)
	if err != nil {
		return nil, err
	}
	return &cms.Validation{Certs: d.certs, CRLs: d.crls, OCSPs: d.ocsps}, nil
}

// IsPDF reports whether the file at path is a PDF by its content ("%PDF-"
// within its first 1,024 bytes, where readers look for it), whatever its
// name says.
func IsPDF(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return cos.IsPDF(f), nil
}
