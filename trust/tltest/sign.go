package tltest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Canonicalization algorithms a signature may use.
const (
	ExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
	C14N10  = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	C14N11  = "http://www.w3.org/2006/12/xml-c14n11"
)

const (
	nsDSig   = "http://www.w3.org/2000/09/xmldsig#"
	nsXAdES  = "http://uri.etsi.org/01903/v1.3.2#"
	sha256ID = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// SignOptions change how SignWith signs, to build the lists tests need,
// attacks included.
type SignOptions struct {
	// C14N canonicalizes SignedInfo and the references (default ExcC14N).
	C14N string
	// PSS signs with RSASSA-PSS (RSA signers only).
	PSS bool
	// NoDocumentReference leaves the reference to the whole list out: the
	// signature then covers only its own SignedProperties.
	NoDocumentReference bool
	// RootID references the document as "#" and the root's Id attribute
	// instead of "".
	RootID bool
	// SigningTime defaults to now.
	SigningTime time.Time
}

// Sign returns the list with an enveloped XAdES-BES signature, as TS 119
// 612 §5.7 asks: exclusive canonicalization, SHA-256, a reference to the
// document (enveloped-signature, exc-c14n) and one to the SignedProperties,
// the signer's certificate in KeyInfo.
func (s *Signer) Sign(t testing.TB, unsigned []byte) []byte {
	t.Helper()
	return s.SignWith(t, unsigned, SignOptions{})
}

// SignWith is Sign with options.
func (s *Signer) SignWith(t testing.TB, unsigned []byte, o SignOptions) []byte {
	t.Helper()
	c14n := o.C14N
	if c14n == "" {
		c14n = ExcC14N
	}
	when := o.SigningTime
	if when.IsZero() {
		when = time.Now()
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(unsigned); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	docDigest := documentDigest(t, doc, c14n)
	id := "id-" + randomHex(t)
	sig, value, sp := s.signatureElement(root, id, when)
	spSum := sha256.Sum256(canonical(t, sp, c14n))
	si := s.signedInfo(root, id, c14n, o, docDigest, spSum[:])
	sig.InsertChildAt(0, si)
	value.SetText(s.signatureValue(t, si, c14n, o.PSS))
	return insertSignature(t, unsigned, root, sig)
}

// documentDigest is the digest of the document: processing instructions
// outside the root, each on its line, then the canonical root (the
// signature is not there yet: the enveloped-signature transform's result).
func documentDigest(t testing.TB, doc *etree.Document, c14n string) []byte {
	h := sha256.New()
	for _, tok := range doc.Child {
		if pi, ok := tok.(*etree.ProcInst); ok && pi.Target != "xml" {
			h.Write([]byte("<?" + pi.Target + " " + pi.Inst + "?>\n"))
		}
	}
	h.Write(canonical(t, doc.Root().Copy(), c14n))
	return h.Sum(nil)
}

// signatureElement adds to root a ds:Signature with the signer's
// certificate and the XAdES SignedProperties (signing time, certificate
// digest, data object format); it returns it, its still empty
// SignatureValue and the SignedProperties.
func (s *Signer) signatureElement(root *etree.Element, id string, when time.Time) (sig, value, sp *etree.Element) {
	sig = root.CreateElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", nsDSig)
	sig.CreateAttr("Id", id)
	value = sig.CreateElement("ds:SignatureValue")
	value.CreateAttr("Id", "value-"+id)
	x509Data := sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
	x509Data.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(s.Cert.Raw))
	qp := sig.CreateElement("ds:Object").CreateElement("xades:QualifyingProperties")
	qp.CreateAttr("xmlns:xades", nsXAdES)
	qp.CreateAttr("Target", "#"+id)
	sp = qp.CreateElement("xades:SignedProperties")
	sp.CreateAttr("Id", "xades-"+id)
	ssp := sp.CreateElement("xades:SignedSignatureProperties")
	ssp.CreateElement("xades:SigningTime").SetText(when.UTC().Format(time.RFC3339))
	certDigest := ssp.CreateElement("xades:SigningCertificateV2").CreateElement("xades:Cert").CreateElement("xades:CertDigest")
	certDigest.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", sha256ID)
	sum := sha256.Sum256(s.Cert.Raw)
	certDigest.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(sum[:]))
	dof := sp.CreateElement("xades:SignedDataObjectProperties").CreateElement("xades:DataObjectFormat")
	dof.CreateAttr("ObjectReference", "#ref-"+id)
	dof.CreateElement("xades:MimeType").SetText("text/xml")
	return sig, value, sp
}

// signedInfo is the ds:SignedInfo: the signature method, the reference to
// the document (unless o leaves it out) and the one to the
// SignedProperties, with their digests.
func (s *Signer) signedInfo(root *etree.Element, id, c14n string, o SignOptions, docDigest, spDigest []byte) *etree.Element {
	si := etree.NewElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", c14n)
	method := ""
	switch {
	case o.PSS:
		method = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
	default:
		if _, ok := s.Key.Public().(*ecdsa.PublicKey); ok {
			method = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
		} else {
			method = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
		}
	}
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", method)
	if !o.NoDocumentReference {
		ref := si.CreateElement("ds:Reference")
		ref.CreateAttr("Id", "ref-"+id)
		uri := ""
		if o.RootID {
			uri = "#" + root.SelectAttrValue("Id", "")
		}
		ref.CreateAttr("URI", uri)
		tr := ref.CreateElement("ds:Transforms")
		tr.CreateElement("ds:Transform").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature")
		tr.CreateElement("ds:Transform").CreateAttr("Algorithm", c14n)
		ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", sha256ID)
		ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(docDigest))
	}
	ref := si.CreateElement("ds:Reference")
	ref.CreateAttr("Type", "http://uri.etsi.org/01903#SignedProperties")
	ref.CreateAttr("URI", "#xades-"+id)
	ref.CreateElement("ds:Transforms").CreateElement("ds:Transform").CreateAttr("Algorithm", c14n)
	ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", sha256ID)
	ref.CreateElement("ds:DigestValue").SetText(base64.StdEncoding.EncodeToString(spDigest))
	return si
}

// signatureValue signs the canonical SignedInfo si (in place in its
// signature) and returns the value in base64; ECDSA values are r‖s, as
// XML signatures write them.
func (s *Signer) signatureValue(t testing.TB, si *etree.Element, c14n string, pss bool) string {
	digest := sha256.Sum256(canonical(t, si, c14n))
	var opts crypto.SignerOpts = crypto.SHA256
	if pss {
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	}
	sv, err := s.Key.Sign(rand.Reader, digest[:], opts)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := s.Key.Public().(*ecdsa.PublicKey); ok {
		sv = rawECDSA(t, sv, (pub.Curve.Params().N.BitLen()+7)/8)
	}
	return base64.StdEncoding.EncodeToString(sv)
}

// insertSignature puts sig into the list's own bytes, before the root's
// end tag, as signers do: serializing the whole tree again would not give
// back the same document (etree writes a &#13; or an attribute's tab as
// the character, which parsers then normalize).
func insertSignature(t testing.TB, unsigned []byte, root, sig *etree.Element) []byte {
	one := etree.NewDocument()
	one.SetRoot(sig.Copy())
	sigXML, err := one.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndex(unsigned, []byte("</"+root.FullTag()))
	if end < 0 {
		t.Fatal("tltest: no end tag of the root")
	}
	out := append(bytes.Clone(unsigned[:end]), sigXML...)
	return append(out, unsigned[end:]...)
}

// canonical returns el's canonical form in its context (the namespaces in
// scope where it stands).
func canonical(t testing.TB, el *etree.Element, alg string) []byte {
	t.Helper()
	var c dsig.Canonicalizer
	switch alg {
	case ExcC14N:
		c = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	case C14N10:
		c = dsig.MakeC14N10RecCanonicalizer()
	case C14N11:
		c = dsig.MakeC14N11Canonicalizer()
	default:
		t.Fatalf("tltest: canonicalization %s", alg)
	}
	if el.Parent() != nil && alg != C14N10 {
		ctx, err := etreeutils.NSBuildParentContext(el)
		if err != nil {
			t.Fatal(err)
		}
		if el, err = etreeutils.NSDetatch(ctx, el); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.Canonicalize(el)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawECDSA turns a DER ECDSA signature into XMLDSig's r‖s (RFC 4051).
func rawECDSA(t testing.TB, der []byte, size int) []byte {
	t.Helper()
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out
}

func randomHex(t testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	const digits = "0123456789abcdef"
	var sb strings.Builder
	for _, x := range b {
		sb.WriteByte(digits[x>>4])
		sb.WriteByte(digits[x&15])
	}
	return sb.String()
}
