package trust

import (
	"bytes"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/trust/tltest"
)

// Our XML signatures are judged by an implementation nobody here wrote:
// the JDK's (JSR 105). It verifies what tltest signs, so that tests built
// on tltest prove something; and it signs lists our verifier must accept,
// in every canonicalization and signature algorithm lists use.

// java runs testdata/XMLDSig.java and returns its output lines (not in
// short mode: a virtual machine compiling the source is slow).
func java(t *testing.T, args ...string) []string {
	t.Helper()
	testenv.Slow(t, "Apache Santuario in a Java virtual machine")
	testenv.Require(t, "java")
	src, err := filepath.Abs("testdata/XMLDSig.java")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("java", append([]string{src}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("java %s: %v\n%s", args[0], err, out)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// trickyXML is valid XML that canonicalization must get right, put at the
// end of a list: namespace declarations unused, redundant, changed and
// undone (xmlns=""), attributes to sort across namespaces, characters to
// escape in text and attributes, CDATA, a comment and a processing
// instruction inside.
const trickyXML = `<x:Extra xmlns:x="urn:x" xmlns:y="urn:y" xmlns:unused="urn:unused" y:b="2" a="1" x:a="3">
  <!-- a comment -->
  <inner xmlns="" attr="tab&#9;nl&#10;cr&#13;q&quot;lt&lt;amp&amp;gt>">text &amp; &lt; &gt; &#13; <![CDATA[<cdata> & ]]></inner>
  <x:same xmlns:x="urn:x"><y:deep xmlns:y="urn:y2" y:z="&#233;t&#233;"/></x:same>
  <?inner-pi some data ?>
  <plain xmlns="http://uri.etsi.org/02231/v2#" xmlns:ns3="http://uri.etsi.org/02231/v2/additionaltypes#">default <ns3:again/></plain>
</x:Extra>
`

// tricky returns the list's XML with trickyXML before its end tag.
func tricky(l *tltest.List) []byte {
	x := l.XML()
	return bytes.Replace(x, []byte("</TrustServiceStatusList>"), []byte(trickyXML+"</TrustServiceStatusList>"), 1)
}

func interopList(t *testing.T) *tltest.List {
	return &tltest.List{Territory: "FR", Sequence: 42, Providers: []tltest.Provider{{Name: "Prestataire de test é&<>\"", Services: []tltest.Service{{
		Type: tltest.CAQC, Name: "AC qualifiée", Status: tltest.Granted, Start: t2016,
		Certs: []*x509.Certificate{newCA(t, "AC qualifiée")}, Additional: []string{tltest.ForESignatures},
		History: []tltest.History{{Status: tltest.UnderSupervision, Start: t2010}},
	}}}}}
}

func TestJavaVerifiesOurSignatures(t *testing.T) {
	dir := t.TempDir()
	rsaSigner, ecSigner := tltest.NewRSASigner(t, "RSA signer"), tltest.NewSigner(t, "EC signer")
	cases := []struct {
		name   string
		signer *tltest.Signer
		opts   tltest.SignOptions
		edit   func(*tltest.List)
	}{
		{"exc-ecdsa", ecSigner, tltest.SignOptions{}, nil},
		{"exc-rsa", rsaSigner, tltest.SignOptions{}, nil},
		{"exc-rsa-pss", rsaSigner, tltest.SignOptions{PSS: true}, nil},
		{"c14n10-ecdsa", ecSigner, tltest.SignOptions{C14N: tltest.C14N10}, nil},
		{"c14n11-rsa", rsaSigner, tltest.SignOptions{C14N: tltest.C14N11}, nil},
		{"stylesheet", ecSigner, tltest.SignOptions{}, func(l *tltest.List) { l.PI = `xml-stylesheet type="text/xsl" href="tl.xsl"` }},
		{"root-id", rsaSigner, tltest.SignOptions{C14N: tltest.C14N10}, func(l *tltest.List) { l.ID = "TL-FR-42" }},
	}
	for _, c14n := range []string{tltest.ExcC14N, tltest.C14N10, tltest.C14N11} {
		cases = append(cases, struct {
			name   string
			signer *tltest.Signer
			opts   tltest.SignOptions
			edit   func(*tltest.List)
		}{"tricky-" + c14n[len(c14n)-8:], rsaSigner, tltest.SignOptions{C14N: c14n}, func(l *tltest.List) { l.PI = "tricky" }})
	}
	byCert := map[*tltest.Signer][]string{}
	for _, c := range cases {
		l := interopList(t)
		if c.edit != nil {
			c.edit(l)
		}
		xml := l.XML()
		if l.PI == "tricky" {
			l.PI = ""
			xml = tricky(l)
		}
		signed := c.signer.SignWith(t, xml, c.opts)
		if _, err := verifyList(signed, []*x509.Certificate{c.signer.Cert}, time.Now()); err != nil {
			t.Errorf("%s: we refuse our own signature: %v", c.name, err)
		}
		byCert[c.signer] = append(byCert[c.signer], writeFile(t, dir, c.name+".xml", signed))
	}
	for s, files := range byCert {
		certPath := writeFile(t, dir, "cert.der", s.Cert.Raw)
		for _, line := range java(t, append([]string{"verify", certPath}, files...)...) {
			if !strings.HasSuffix(line, " valid") {
				t.Errorf("java: %s", line)
			}
		}
	}
}

func TestWeVerifyJavaSignatures(t *testing.T) {
	dir := t.TempDir()
	rsaSigner, ecSigner := tltest.NewRSASigner(t, "RSA signer"), tltest.NewSigner(t, "EC signer")
	keyFile := func(s *tltest.Signer) string {
		der, err := x509.MarshalPKCS8PrivateKey(s.Key)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, dir, s.Cert.Subject.CommonName+".p8", der)
	}
	keys := map[*tltest.Signer][2]string{
		rsaSigner: {keyFile(rsaSigner), writeFile(t, dir, "rsa.der", rsaSigner.Cert.Raw)},
		ecSigner:  {keyFile(ecSigner), writeFile(t, dir, "ec.der", ecSigner.Cert.Raw)},
	}
	cases := []struct {
		name, c14n, method string
		signer             *tltest.Signer
		pi                 string
	}{
		{"exc-rsa", tltest.ExcC14N, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", rsaSigner, ""},
		{"exc-ecdsa", tltest.ExcC14N, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", ecSigner, ""},
		{"c14n10-rsa", tltest.C14N10, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", rsaSigner, ""},
		{"c14n11-ecdsa", tltest.C14N11, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", ecSigner, ""},
		{"exc-rsa-pss", tltest.ExcC14N, "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", rsaSigner, ""},
		{"stylesheet-c14n10", tltest.C14N10, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", rsaSigner, `xml-stylesheet type="text/xsl" href="tl.xsl"`},
		{"tricky-exc", tltest.ExcC14N, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", rsaSigner, "tricky"},
		{"tricky-c14n10", tltest.C14N10, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", ecSigner, "tricky"},
		{"tricky-c14n11", tltest.C14N11, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", rsaSigner, "tricky"},
	}
	args := []string{"sign"}
	for _, c := range cases {
		l := interopList(t)
		xml := l.XML()
		if c.pi == "tricky" {
			xml = tricky(l)
		} else {
			l.PI = c.pi
			xml = l.XML()
		}
		in := writeFile(t, dir, c.name+".in.xml", xml)
		k := keys[c.signer]
		args = append(args, k[0], k[1], c.c14n, c.method, in, filepath.Join(dir, c.name+".xml"))
	}
	java(t, args...)
	for _, c := range cases {
		signed, err := os.ReadFile(filepath.Join(dir, c.name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := verifyList(signed, []*x509.Certificate{c.signer.Cert}, time.Now())
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		l, err := parseList(v.content(), nil)
		if err != nil || l.Territory != "FR" || l.Sequence != 42 {
			t.Errorf("%s: %+v %v", c.name, l, err)
		}
		// And the same list with one byte changed.
		i := bytes.Index(signed, []byte("AC qualifi"))
		signed[i] = 'B'
		_, err = verifyList(signed, []*x509.Certificate{c.signer.Cert}, time.Now())
		wantProblem(t, err, SigAltered)
	}
}

// The real list's signature holds for Java too.
func TestJavaVerifiesRealList(t *testing.T) {
	data, err := os.ReadFile(realList)
	if err != nil {
		t.Fatal(err)
	}
	cert := writeFile(t, t.TempDir(), "signer.der", realListSigner(t, data).Raw)
	if got := java(t, "verify", cert, realList); got[0] != realList+" valid" {
		t.Fatalf("java: %s", got)
	}
}
