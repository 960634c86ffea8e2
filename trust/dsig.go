package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha256" // digest and signature algorithms of trusted lists
	_ "crypto/sha3"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Trusted lists carry an enveloped XAdES signature (ETSI TS 119 612 §5.7):
// a ds:Signature, last child of the list, whose SignedInfo has a reference
// to the whole document (URI "", transforms enveloped-signature then a
// canonicalization) and one to the XAdES SignedProperties. This file checks
// such a signature. The document is canonicalized streaming (c14n.go);
// the signature's own parts with goxmldsig's canonicalizers (XML C14N 1.0,
// 1.1, exclusive). goxmldsig's Validate is not used: it takes ECDSA
// signatures in DER where XMLDSig (RFC 4051) writes r‖s, knows no RSA-PSS,
// checks only the first reference to the document and no other, ties the
// signer to its KeyInfo, and needs the document as a tree.

const (
	nsDSig  = "http://www.w3.org/2000/09/xmldsig#"
	nsTSL   = "http://uri.etsi.org/02231/v2#"
	nsExcNS = "http://www.w3.org/2001/10/xml-exc-c14n#"

	algEnveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// SignatureProblem says why a list's signature is refused.
type SignatureProblem string

// The reasons a list's signature is refused.
const (
	SigMissing         SignatureProblem = "missing"            // the list is not signed
	SigSeveral         SignatureProblem = "several"            // more than one enveloped signature
	SigMalformed       SignatureProblem = "malformed"          // not a well-formed XML signature
	SigPartial         SignatureProblem = "not_whole_document" // the signature does not cover the whole list
	SigUnsupported     SignatureProblem = "unsupported"        // an algorithm or transform this verifier does not know
	SigWeak            SignatureProblem = "weak_algorithm"     // SHA-1
	SigAltered         SignatureProblem = "altered"            // the list changed after it was signed
	SigInvalid         SignatureProblem = "invalid"            // the signature value does not verify
	SigUntrustedSigner SignatureProblem = "untrusted_signer"   // signed by a certificate not allowed to sign this list
	SigSignerExpired   SignatureProblem = "signer_expired"     // signed by an allowed certificate, outside its validity
)

// SignatureError is a list whose signature is refused: nothing it names
// is trusted.
type SignatureError struct {
	Problem SignatureProblem
	// Signer is the certificate that made the signature, when known (an
	// untrusted or expired signer).
	Signer *x509.Certificate
	// Detail is technical (an algorithm URI, a reference), for logs.
	Detail string
}

func (e *SignatureError) Error() string {
	s := "trust: list signature: " + strings.ReplaceAll(string(e.Problem), "_", " ")
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// ErrNotTrustedList: the data is not an ETSI TS 119 612 trusted list (not
// XML, another root element, a DTD).
var ErrNotTrustedList = errors.New("trust: not an ETSI TS 119 612 trusted list")

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// verified is a list whose signature holds.
type verified struct {
	data             []byte
	sigStart, sigEnd int64
	signer           *x509.Certificate
}

// content returns the octets the signature covers: the list without its
// signature. They are the only ones a caller may read.
func (v *verified) content() io.Reader {
	return io.MultiReader(bytes.NewReader(v.data[:v.sigStart]), bytes.NewReader(v.data[v.sigEnd:]))
}

// verifyList checks the enveloped signature of a trusted list against the
// certificates allowed to sign it, at time now.
func verifyList(data []byte, allowed []*x509.Certificate, now time.Time) (*verified, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	s, err := scanList(data)
	if err != nil {
		return nil, err
	}

	// The signature alone becomes a tree, inside a copy of the root's start
	// tag so that the namespaces in scope are the same.
	var wrapped bytes.Buffer
	wrapped.Write(data[s.rootStart:s.rootEnd])
	wrapped.Write(data[s.sigStart:s.sigEnd])
	wrapped.WriteString("</" + s.rootName + ">")
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(wrapped.Bytes()); err != nil {
		return nil, &SignatureError{Problem: SigMalformed, Detail: err.Error()}
	}
	root := doc.Root()
	if root == nil || len(root.ChildElements()) != 1 {
		return nil, &SignatureError{Problem: SigMalformed}
	}
	sig := root.ChildElements()[0]
	si, value, keyInfo, err := signatureParts(sig)
	if err != nil {
		return nil, err
	}
	info, err := parseSignedInfo(si)
	if err != nil {
		return nil, err
	}

	// Which references, and how: one to the whole document, with the
	// enveloped-signature transform and a canonicalization; the others to
	// elements of the signature (the SignedProperties).
	rootID := root.SelectAttrValue("Id", "")
	var docRef *reference
	var fragments []*reference
	for i := range info.refs {
		r := &info.refs[i]
		if r.hasURI && (r.uri == "" || rootID != "" && r.uri == "#"+rootID) {
			if docRef != nil {
				return nil, &SignatureError{Problem: SigMalformed, Detail: "two references to the document"}
			}
			docRef = r
			continue
		}
		if err := r.checkFragment(); err != nil {
			return nil, err
		}
		fragments = append(fragments, r)
	}
	if docRef == nil {
		return nil, &SignatureError{Problem: SigPartial}
	}
	c14n, prefixes := "", ""
	switch t := docRef.transforms; {
	case len(t) == 1 && t[0].alg == algEnveloped:
		c14n = string(dsig.CanonicalXML10RecAlgorithmId)
	case len(t) == 2 && t[0].alg == algEnveloped && isC14N(t[1].alg):
		c14n, prefixes = t[1].alg, t[1].prefixes
	default:
		return nil, &SignatureError{Problem: SigUnsupported, Detail: "transforms of the document reference"}
	}

	// The signature value over the canonical SignedInfo, by an allowed
	// certificate.
	canonSI, err := canonicalSubtree(si, info.c14n, info.c14nPrefixes, true)
	if err != nil {
		return nil, &SignatureError{Problem: SigMalformed, Detail: err.Error()}
	}
	signer, err := findSigner(info.method, canonSI, value, allowed, keyInfo)
	if err != nil {
		return nil, err
	}
	if now.Before(signer.NotBefore) || now.After(signer.NotAfter) {
		return nil, &SignatureError{Problem: SigSignerExpired, Signer: signer}
	}

	// Every digest must hold.
	for _, r := range fragments {
		if err := checkFragmentDigest(doc, r, s.ids); err != nil {
			return nil, err
		}
	}
	h := docRef.hash.New()
	if err := canonicalDocument(h, data, s, c14n, prefixes); err != nil {
		return nil, err
	}
	if !bytes.Equal(h.Sum(nil), docRef.digest) {
		return nil, &SignatureError{Problem: SigAltered, Signer: signer}
	}
	return &verified{data: data, sigStart: s.sigStart, sigEnd: s.sigEnd, signer: signer}, nil
}

// signatureParts checks the shape of ds:Signature: SignedInfo,
// SignatureValue, an optional KeyInfo, then objects.
func signatureParts(sig *etree.Element) (si *etree.Element, value []byte, keyInfo []*x509.Certificate, err error) {
	malformed := func(d string) error { return &SignatureError{Problem: SigMalformed, Detail: d} }
	kids := sig.ChildElements()
	if len(kids) < 2 || !isDSig(kids[0], "SignedInfo") || !isDSig(kids[1], "SignatureValue") {
		return nil, nil, nil, malformed("SignedInfo and SignatureValue")
	}
	value, err = decodeBase64(kids[1].Text())
	if err != nil {
		return nil, nil, nil, malformed("SignatureValue")
	}
	for _, k := range kids[2:] {
		switch {
		case isDSig(k, "KeyInfo"):
			for _, data := range k.ChildElements() {
				if !isDSig(data, "X509Data") {
					continue
				}
				for _, c := range data.ChildElements() {
					if !isDSig(c, "X509Certificate") {
						continue
					}
					if der, err := decodeBase64(c.Text()); err == nil {
						if cert, err := x509.ParseCertificate(der); err == nil {
							keyInfo = append(keyInfo, cert)
						}
					}
				}
			}
		case isDSig(k, "Object"):
		default:
			return nil, nil, nil, malformed("unexpected " + k.Tag)
		}
	}
	return kids[0], value, keyInfo, nil
}

type transform struct {
	alg, prefixes string
}

type reference struct {
	uri        string
	hasURI     bool
	transforms []transform
	hash       crypto.Hash
	digest     []byte
}

type signedInfo struct {
	c14n, c14nPrefixes string
	method             string
	refs               []reference
}

func parseSignedInfo(si *etree.Element) (*signedInfo, error) {
	malformed := func(d string) error { return &SignatureError{Problem: SigMalformed, Detail: d} }
	var info signedInfo
	kids := si.ChildElements()
	if len(kids) < 3 || !isDSig(kids[0], "CanonicalizationMethod") || !isDSig(kids[1], "SignatureMethod") {
		return nil, malformed("SignedInfo")
	}
	info.c14n = kids[0].SelectAttrValue("Algorithm", "")
	if !isC14N(info.c14n) {
		return nil, &SignatureError{Problem: SigUnsupported, Detail: info.c14n}
	}
	info.c14nPrefixes = inclusivePrefixes(kids[0])
	info.method = kids[1].SelectAttrValue("Algorithm", "")
	for _, k := range kids[2:] {
		if !isDSig(k, "Reference") {
			return nil, malformed("unexpected " + k.Tag + " in SignedInfo")
		}
		var r reference
		if a := k.SelectAttr("URI"); a != nil {
			r.uri, r.hasURI = a.Value, true
		}
		var digestMethod *etree.Element
		for _, c := range k.ChildElements() {
			switch {
			case isDSig(c, "Transforms"):
				for _, t := range c.ChildElements() {
					if !isDSig(t, "Transform") {
						return nil, malformed("Transforms")
					}
					r.transforms = append(r.transforms, transform{alg: t.SelectAttrValue("Algorithm", ""), prefixes: inclusivePrefixes(t)})
				}
			case isDSig(c, "DigestMethod"):
				digestMethod = c
			case isDSig(c, "DigestValue"):
				d, err := decodeBase64(c.Text())
				if err != nil {
					return nil, malformed("DigestValue")
				}
				r.digest = d
			}
		}
		if digestMethod == nil || r.digest == nil {
			return nil, malformed("Reference")
		}
		h, err := digestAlgorithm(digestMethod.SelectAttrValue("Algorithm", ""))
		if err != nil {
			return nil, err
		}
		r.hash = h
		info.refs = append(info.refs, r)
	}
	if len(info.refs) == 0 {
		return nil, malformed("no Reference")
	}
	return &info, nil
}

// checkFragment checks that a reference is a same-document one ("#id"),
// such as the one to the XAdES SignedProperties, with at most a
// canonicalization as transform.
func (r *reference) checkFragment() error {
	id, ok := strings.CutPrefix(r.uri, "#")
	if !r.hasURI || !ok || id == "" {
		return &SignatureError{Problem: SigUnsupported, Detail: "reference " + r.uri}
	}
	if t := r.transforms; len(t) > 1 || len(t) == 1 && !isC14N(t[0].alg) {
		return &SignatureError{Problem: SigUnsupported, Detail: "transforms of reference " + r.uri}
	}
	return nil
}

// checkFragmentDigest checks the digest of a same-document reference; doc
// holds the signature, ids counts the Ids of the whole list.
func checkFragmentDigest(doc *etree.Document, r *reference, ids map[string]int) error {
	id := strings.TrimPrefix(r.uri, "#")
	var target *etree.Element
	n := 0
	for _, el := range doc.FindElements("//*") {
		for _, a := range el.Attr {
			if (a.Key == "Id" || a.Key == "ID" || a.Key == "id") && a.Space == "" && a.Value == id {
				target = el
				n++
			}
		}
	}
	switch {
	case ids[id] != 1:
		return &SignatureError{Problem: SigMalformed, Detail: fmt.Sprintf("reference %s names %d elements", r.uri, ids[id])}
	case n != 1:
		return &SignatureError{Problem: SigUnsupported, Detail: "reference " + r.uri + " outside the signature"}
	}
	c14n, prefixes := string(dsig.CanonicalXML10RecAlgorithmId), ""
	if len(r.transforms) == 1 {
		c14n, prefixes = r.transforms[0].alg, r.transforms[0].prefixes
	}
	canon, err := canonicalSubtree(target, c14n, prefixes, false)
	if err != nil {
		return &SignatureError{Problem: SigMalformed, Detail: err.Error()}
	}
	h := r.hash.New()
	h.Write(canon)
	if !bytes.Equal(h.Sum(nil), r.digest) {
		return &SignatureError{Problem: SigAltered, Detail: "reference " + r.uri}
	}
	return nil
}

func isC14N(alg string) bool {
	switch dsig.AlgorithmID(alg) {
	case dsig.CanonicalXML10ExclusiveAlgorithmId, dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId,
		dsig.CanonicalXML10RecAlgorithmId, dsig.CanonicalXML10WithCommentsAlgorithmId,
		dsig.CanonicalXML11AlgorithmId, dsig.CanonicalXML11WithCommentsAlgorithmId:
		return true
	}
	return false
}

// canonicalSubtree returns the canonical form of el, a part of the
// signature, in the context where it stands (the namespaces, and for C14N
// 1.0 the xml: attributes, in scope). A reference's node-set never holds
// comments (XMLDSig §4.4.3.3), so the "WithComments" variants keep them
// only for SignedInfo (keepComments). el is not changed.
func canonicalSubtree(el *etree.Element, alg, prefixes string, keepComments bool) ([]byte, error) {
	comments := keepComments && strings.HasSuffix(alg, "#WithComments")
	switch dsig.AlgorithmID(strings.TrimSuffix(alg, "#WithComments")) {
	case dsig.CanonicalXML10ExclusiveAlgorithmId:
		el, err := detach(el)
		if err != nil {
			return nil, err
		}
		if comments {
			return dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList(prefixes).Canonicalize(el)
		}
		return dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixes).Canonicalize(el)
	case dsig.CanonicalXML10RecAlgorithmId:
		// Copies el and declares the namespaces and xml: attributes in
		// scope from its ancestors.
		if comments {
			return dsig.MakeC14N10WithCommentsCanonicalizer().Canonicalize(el)
		}
		return dsig.MakeC14N10RecCanonicalizer().Canonicalize(el)
	case dsig.CanonicalXML11AlgorithmId:
		el, err := detach(el)
		if err != nil {
			return nil, err
		}
		if comments {
			return dsig.MakeC14N11WithCommentsCanonicalizer().Canonicalize(el)
		}
		return dsig.MakeC14N11Canonicalizer().Canonicalize(el)
	}
	return nil, &SignatureError{Problem: SigUnsupported, Detail: alg}
}

// inclusivePrefixes reads an exclusive canonicalization's
// InclusiveNamespaces PrefixList.
func inclusivePrefixes(el *etree.Element) string {
	for _, c := range el.ChildElements() {
		if c.Tag == "InclusiveNamespaces" && c.NamespaceURI() == nsExcNS {
			return c.SelectAttrValue("PrefixList", "")
		}
	}
	return ""
}

func digestAlgorithm(uri string) (crypto.Hash, error) {
	switch uri {
	case "http://www.w3.org/2001/04/xmlenc#sha256":
		return crypto.SHA256, nil
	case "http://www.w3.org/2001/04/xmldsig-more#sha224":
		return crypto.SHA224, nil
	case "http://www.w3.org/2001/04/xmldsig-more#sha384":
		return crypto.SHA384, nil
	case "http://www.w3.org/2001/04/xmlenc#sha512":
		return crypto.SHA512, nil
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-256":
		return crypto.SHA3_256, nil
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-384":
		return crypto.SHA3_384, nil
	case "http://www.w3.org/2007/05/xmldsig-more#sha3-512":
		return crypto.SHA3_512, nil
	case "http://www.w3.org/2000/09/xmldsig#sha1":
		return 0, &SignatureError{Problem: SigWeak, Detail: uri}
	}
	return 0, &SignatureError{Problem: SigUnsupported, Detail: uri}
}

type signatureKind int

const (
	kindRSA signatureKind = iota
	kindPSS
	kindECDSA
	kindEd25519
)

type signatureMethod struct {
	kind signatureKind
	hash crypto.Hash
}

// signatureMethods are the XMLDSig signature algorithms (RFC 6931, RFC
// 9231) trusted lists use.
var signatureMethods = map[string]signatureMethod{
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha224":        {kindRSA, crypto.SHA224},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":        {kindRSA, crypto.SHA256},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":        {kindRSA, crypto.SHA384},
	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":        {kindRSA, crypto.SHA512},
	"http://www.w3.org/2007/05/xmldsig-more#sha224-rsa-MGF1":   {kindPSS, crypto.SHA224},
	"http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1":   {kindPSS, crypto.SHA256},
	"http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1":   {kindPSS, crypto.SHA384},
	"http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1":   {kindPSS, crypto.SHA512},
	"http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1": {kindPSS, crypto.SHA3_256},
	"http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1": {kindPSS, crypto.SHA3_384},
	"http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1": {kindPSS, crypto.SHA3_512},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224":      {kindECDSA, crypto.SHA224},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256":      {kindECDSA, crypto.SHA256},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384":      {kindECDSA, crypto.SHA384},
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512":      {kindECDSA, crypto.SHA512},
	"http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-256":    {kindECDSA, crypto.SHA3_256},
	"http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-384":    {kindECDSA, crypto.SHA3_384},
	"http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-512":    {kindECDSA, crypto.SHA3_512},
	"http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519":     {kindEd25519, 0},
}

var weakSignatureMethods = map[string]bool{
	"http://www.w3.org/2000/09/xmldsig#rsa-sha1":           true,
	"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1":    true,
	"http://www.w3.org/2000/09/xmldsig#dsa-sha1":           true,
	"http://www.w3.org/2001/04/xmldsig-more#rsa-md5":       true,
	"http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1": true,
}

// findSigner returns the allowed certificate whose key made the signature
// over signed. When none did, it tells an untrusted signer (a certificate
// of KeyInfo verifies) from a broken signature.
func findSigner(methodURI string, signed, value []byte, allowed, keyInfo []*x509.Certificate) (*x509.Certificate, error) {
	if weakSignatureMethods[methodURI] {
		return nil, &SignatureError{Problem: SigWeak, Detail: methodURI}
	}
	m, ok := signatureMethods[methodURI]
	if !ok {
		return nil, &SignatureError{Problem: SigUnsupported, Detail: methodURI}
	}
	for _, c := range allowed {
		if verifySignature(m, c.PublicKey, signed, value) == nil {
			return c, nil
		}
	}
	for _, c := range keyInfo {
		if verifySignature(m, c.PublicKey, signed, value) == nil {
			return nil, &SignatureError{Problem: SigUntrustedSigner, Signer: c}
		}
	}
	return nil, &SignatureError{Problem: SigInvalid}
}

var errVerify = errors.New("signature does not verify")

func verifySignature(m signatureMethod, pub any, signed, value []byte) error {
	var digest []byte
	if m.kind != kindEd25519 {
		h := m.hash.New()
		h.Write(signed)
		digest = h.Sum(nil)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch m.kind {
		case kindRSA:
			return rsa.VerifyPKCS1v15(k, m.hash, digest, value)
		case kindPSS:
			return rsa.VerifyPSS(k, m.hash, digest, value, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		}
	case *ecdsa.PublicKey:
		if m.kind != kindECDSA {
			break
		}
		// XMLDSig writes r‖s, each the size of the curve order (RFC 4051
		// §3.3); some producers write DER.
		size := (k.Curve.Params().N.BitLen() + 7) / 8
		if len(value) == 2*size {
			r := new(big.Int).SetBytes(value[:size])
			s := new(big.Int).SetBytes(value[size:])
			if ecdsa.Verify(k, digest, r, s) {
				return nil
			}
			return errVerify
		}
		if ecdsa.VerifyASN1(k, digest, value) {
			return nil
		}
		return errVerify
	case ed25519.PublicKey:
		if m.kind == kindEd25519 && ed25519.Verify(k, signed, value) {
			return nil
		}
	}
	return errVerify
}

// detach returns a copy of el that declares the namespaces in scope where
// el stands (goxmldsig refuses subtrees of more than 1,000 elements).
func detach(el *etree.Element) (*etree.Element, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	return etreeutils.NSDetatch(ctx, el)
}

func isDSig(el *etree.Element, tag string) bool {
	return el.Tag == tag && el.NamespaceURI() == nsDSig
}

// decodeBase64 decodes base64 that may be split across lines.
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s))
}
