package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/trust/tltest"
)

// signedList returns a small list signed by a new signer.
func signedList(t *testing.T, o tltest.SignOptions) ([]byte, *tltest.Signer) {
	t.Helper()
	s := tltest.NewSigner(t, "FR signer")
	l := frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}})
	l.ID = "TL-FR"
	return s.SignWith(t, l.XML(), o), s
}

func TestVerifyListAccepts(t *testing.T) {
	for name, o := range map[string]tltest.SignOptions{
		"root id":        {RootID: true},
		"exclusive":      {},
		"inclusive 1.0":  {C14N: tltest.C14N10},
		"inclusive 1.1":  {C14N: tltest.C14N11},
		"enveloped only": {},
	} {
		data, s := signedList(t, o)
		if name == "enveloped only" {
			// A document reference whose only transform is enveloped-signature
			// is canonicalized with C14N 1.0 (XMLDSig §4.4.3.2): not what was
			// signed here, so it must fail as altered, not pass.
			data = bytes.Replace(data, []byte(`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>`),
				[]byte(`</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>`), 1)
			_, err := verifyList(data, []*x509.Certificate{s.Cert}, time.Now())
			wantProblem(t, err, SigInvalid) // SignedInfo changed: the signature value no longer holds
			continue
		}
		if _, err := verifyList(data, []*x509.Certificate{s.Cert}, time.Now()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		// A byte order mark is no part of the document.
		if _, err := verifyList(append([]byte{0xef, 0xbb, 0xbf}, data...), []*x509.Certificate{s.Cert}, time.Now()); err != nil {
			t.Errorf("%s with BOM: %v", name, err)
		}
	}
}

// The signature right after an empty element, without white space: the
// decoder reports the empty element's end at the offset where the
// signature starts.
func TestVerifyListSignatureAfterEmptyElement(t *testing.T) {
	s := tltest.NewSigner(t, "FR signer")
	unsigned := bytes.Replace((&tltest.List{Territory: "FR"}).XML(), []byte("  </SchemeInformation>\n</TrustServiceStatusList>\n"), []byte("  </SchemeInformation><Extension/></TrustServiceStatusList>\n"), 1)
	if !bytes.Contains(unsigned, []byte("<Extension/></TrustServiceStatusList>")) {
		t.Fatal("no empty element before the end")
	}
	signed := s.Sign(t, unsigned)
	if !bytes.Contains(signed, []byte("<Extension/><ds:Signature")) {
		t.Fatal("signature not right after the empty element")
	}
	if _, err := verifyList(signed, []*x509.Certificate{s.Cert}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyListRefuses(t *testing.T) {
	data, s := signedList(t, tltest.SignOptions{})
	sigStart := bytes.Index(data, []byte("<ds:Signature "))
	sigEnd := bytes.Index(data, []byte("</ds:Signature>")) + len("</ds:Signature>")
	signature := data[sigStart:sigEnd]
	replace := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%q not in the list", old)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	unsigned := append(bytes.Clone(data[:sigStart]), data[sigEnd:]...)
	cases := []struct {
		name string
		data []byte
		want SignatureProblem
		err  error
	}{
		{"not xml", []byte("%PDF-1.7"), "", ErrNotTrustedList},
		{"other root", []byte(`<Foo xmlns="http://uri.etsi.org/02231/v2#"/>`), "", ErrNotTrustedList},
		{"no namespace", replace(`xmlns="http://uri.etsi.org/02231/v2#"`, `xmlns="urn:other"`), "", ErrNotTrustedList},
		{"doctype", append([]byte(`<!DOCTYPE TrustServiceStatusList [<!ENTITY x "y">]>`), data[bytes.Index(data, []byte("<TrustServiceStatusList")):]...), "", ErrNotTrustedList},
		{"text after root", append(bytes.Clone(data), "trailing"...), "", ErrNotTrustedList},
		{"two roots", append(bytes.Clone(data), "<TrustServiceStatusList/>"...), "", ErrNotTrustedList},
		{"unsigned", unsigned, SigMissing, nil},
		{"signature not a child of the root", bytes.Replace(unsigned, []byte("</SchemeInformation>"), append(bytes.Clone(signature), "</SchemeInformation>"...), 1), SigMissing, nil},
		{"two signatures", bytes.Replace(data, signature, append(bytes.Clone(signature), signature...), 1), SigSeveral, nil},
		{"sha-1", replace("xmldsig-more#ecdsa-sha256", "xmldsig-more#ecdsa-sha1"), SigWeak, nil},
		{"unknown method", replace("xmldsig-more#ecdsa-sha256", "xmldsig-more#ecdsa-sha257"), SigUnsupported, nil},
		{"xpath transform", replace(`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>`,
			`<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>`), SigUnsupported, nil},
		{"external reference", replace(`URI="#xades-`, `URI="https://example.org/#xades-`), SigUnsupported, nil},
		{"duplicate id", replace(`<SchemeInformation>`, `<SchemeInformation Id="`+idOf(t, data)+`">`), SigMalformed, nil},
		{"signed properties changed", replace("<xades:MimeType>text/xml", "<xades:MimeType>text/html"), SigAltered, nil},
		{"end tag mismatch", replace("</SchemeOperatorName>", "</SchemeOperatorNames>"), "", ErrNotTrustedList},
		{"duplicate attribute", replace(`<Name xml:lang="en">`, `<Name xml:lang="en" xml:lang="fr">`), "", ErrNotTrustedList},
		{"duplicate attribute by namespace", replace(`<Name xml:lang="en">`, `<Name xml:lang="en" xmlns:l="http://www.w3.org/XML/1998/namespace" l:lang="fr">`), "", ErrNotTrustedList},
		{"no signature value", bytes.Replace(replace("<ds:SignatureValue", "<ds:NoSignatureValue"), []byte("</ds:SignatureValue>"), []byte("</ds:NoSignatureValue>"), 1), SigMalformed, nil},
	}
	for _, c := range cases {
		_, err := verifyList(c.data, []*x509.Certificate{s.Cert}, time.Now())
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: %v, want %v", c.name, err, c.err)
			}
			continue
		}
		var se *SignatureError
		if !errors.As(err, &se) || se.Problem != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

// idOf returns the Id of the SignedProperties.
func idOf(t *testing.T, data []byte) string {
	i := bytes.Index(data, []byte(`SignedProperties Id="`)) + len(`SignedProperties Id="`)
	return string(data[i : i+bytes.IndexByte(data[i:], '"')])
}

func TestSignatureErrorWords(t *testing.T) {
	err := &SignatureError{Problem: SigUntrustedSigner, Detail: "x"}
	if got := err.Error(); !strings.HasPrefix(got, "trust: list signature: untrusted signer") {
		t.Errorf("%q", got)
	}
}
