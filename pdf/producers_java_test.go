package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// Signatures made by producers nobody here wrote, iText 5 and Apache
// PDFBox 2 with Bouncy Castle (internal/testenv/java), each first judged
// by an independent validator (poppler's pdfsig, or openssl where NSS
// cannot judge), then by our verifier, before and after one signed byte
// changes.

// javaPKI is a root (ECDSA P-256) and an issuing CA (RSA 2048), as PEM
// files too, for signers of any algorithm.
type javaPKI struct {
	root, issuing       *x509.Certificate
	rootKey, issuingKey crypto.Signer
	rootPEM, issuingPEM string
	issuingKeyPEM       string
}

func newJavaPKI(t *testing.T) *javaPKI {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ik, _ := rsa.GenerateKey(rand.Reader, 2048)
	p := &javaPKI{rootKey: rk, issuingKey: ik}
	p.root = issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Java Producers Root " + t.Name(), Organization: []string{"Paraphe tests"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil, rk.Public(), rk)
	p.issuing = issueCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Java Producers Issuing CA", Organization: []string{"Paraphe tests"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, p.root, ik.Public(), rk)
	p.rootPEM = testenv.WriteCertsPEM(t, p.root)
	p.issuingPEM = testenv.WriteCertsPEM(t, p.issuing)
	p.issuingKeyPEM = testenv.WriteKeyPEM(t, ik)
	return p
}

func issueCert(t *testing.T, tmpl, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().AddDate(1, 0, 0)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// signer issues a leaf for key and writes key and chain as PKCS#12.
func (p *javaPKI) signer(t *testing.T, name string, key crypto.Signer) (p12, password string) {
	t.Helper()
	leaf := issueCert(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: name, Organization: []string{"Paraphe tests"}, Country: []string{"FR"}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}, p.issuing, key.Public(), p.issuingKey)
	return testenv.WritePKCS12(t, key, []*x509.Certificate{leaf, p.issuing, p.root})
}

func (p *javaPKI) trust() VerifyOptions {
	return VerifyOptions{Trust: []Anchor{{Cert: p.root, Source: SourcePolicy, Name: "test root"}}}
}

// javaAlg is a signature algorithm and the key that makes it.
type javaAlg struct {
	name   string
	digest string
	pss    bool
	key    string // "rsa", "p256", "p384", "brainpool"
	// nss: pdfsig can judge it; NSS has no brainpool curves (pdfsig calls
	// such signatures "Invalid"), so openssl cms -verify judges those.
	nss bool
}

var javaAlgs = []javaAlg{
	{name: "RSA-SHA256", digest: "SHA-256", key: "rsa", nss: true},
	{name: "RSA-SHA512", digest: "SHA-512", key: "rsa", nss: true},
	{name: "RSA-PSS-SHA256", digest: "SHA-256", pss: true, key: "rsa", nss: true},
	{name: "ECDSA-P256-SHA256", digest: "SHA-256", key: "p256", nss: true},
	{name: "ECDSA-P384-SHA384", digest: "SHA-384", key: "p384", nss: true},
	{name: "brainpoolP256r1-SHA256", digest: "SHA-256", key: "brainpool"},
}

// cannotMake says why a producer cannot make a combination, "" when it can.
func cannotMake(producer string, a javaAlg) string {
	if producer == "itext" && a.pss {
		return "iText 5 cannot make RSASSA-PSS signatures"
	}
	return ""
}

type javaCase struct {
	producer, subfilter string
	alg                 javaAlg
	visible             bool
	out                 string
}

func (c javaCase) name() string {
	v := ""
	if c.visible {
		v = "-visible"
	}
	return c.producer + "/" + c.subfilter + "/" + c.alg.name + v
}

func TestJavaProducers(t *testing.T) {
	j := testenv.Java(t)
	p := newJavaPKI(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "deed.pdf")
	if err := os.WriteFile(in, makePDF(2, true), 0o644); err != nil {
		t.Fatal(err)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	k256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	k384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	creds := map[string]testenv.JavaJob{}
	for k, key := range map[string]crypto.Signer{"rsa": rk, "p256": k256, "p384": k384} {
		p12, pw := p.signer(t, k+" Signer", key)
		creds[k] = testenv.JavaJob{PKCS12: p12, Password: pw}
	}
	// Go has no brainpool curves: Bouncy Castle makes the key, and a
	// certificate for it from our issuing CA.
	bp := testenv.JavaJob{Key: filepath.Join(dir, "brainpool.key"), Certs: filepath.Join(dir, "brainpool.pem")}
	creds["brainpool"] = bp
	jobs := []testenv.JavaJob{{Op: "keygen", Producer: "bc", Curve: "brainpoolP256r1", CN: "Brainpool Signer",
		CAKey: p.issuingKeyPEM, CACert: p.issuingPEM, Chain: p.rootPEM, KeyOut: bp.Key, CertOut: bp.Certs}}

	var cases []javaCase
	for _, producer := range []string{"itext", "pdfbox"} {
		for _, sf := range []string{"adbe.pkcs7.detached", "ETSI.CAdES.detached"} {
			for _, a := range javaAlgs {
				c := javaCase{producer: producer, subfilter: sf, alg: a, visible: a.key == "p256"}
				c.out = filepath.Join(dir, strings.NewReplacer("/", "_", ".", "_").Replace(c.name())+".pdf")
				cases = append(cases, c)
				cr := creds[a.key]
				jobs = append(jobs, testenv.JavaJob{Op: "sign", Producer: producer, In: in, Out: c.out,
					PKCS12: cr.PKCS12, Password: cr.Password, Key: cr.Key, Certs: cr.Certs, SubFilter: sf, Digest: a.digest, PSS: a.pss,
					Visible: c.visible, Field: "Signature " + a.name})
			}
		}
	}
	res := j.Run(t, jobs...)
	if err := res[0].Err(); err != nil {
		t.Fatalf("brainpool keygen: %v", err)
	}
	var made []string
	for i, c := range cases {
		if res[i+1].OK {
			made = append(made, c.out)
		}
	}
	itext := map[string]testenv.ITextVerdict{} // one JVM for all files
	for _, v := range j.VerifyIText(t, made...) {
		itext[v.File] = v
	}
	db := nssDB(t, p.root)
	for i, c := range cases {
		r := res[i+1]
		t.Run(c.name(), func(t *testing.T) {
			if why := cannotMake(c.producer, c.alg); why != "" {
				if r.OK || !strings.Contains(r.Error, why) {
					t.Fatalf("expected the producer to refuse (%s): %+v", why, r)
				}
				t.Log(why)
				return
			}
			if err := r.Err(); err != nil {
				t.Fatalf("%s could not sign: %v", c.producer, err)
			}
			// The producer's signature, judged by others than us: pdfsig
			// (or openssl), and iText, which has no verdict on RSASSA-PSS.
			if c.alg.nss {
				if rep := pdfsig(t, db, c.out); !strings.Contains(rep, "Signature is Valid") ||
					!strings.Contains(rep, "Certificate is Trusted") || !strings.Contains(rep, "Total document signed") {
					t.Fatalf("pdfsig does not accept the producer's signature:\n%s", rep)
				}
			} else {
				opensslCMSVerify(t, c.out, 0, p.rootPEM)
			}
			if v := itext[c.out]; v.Integrity != "true" && !(c.alg.pss && v.Integrity == "error") {
				t.Fatalf("iText: %+v", v)
			}
			checkJava(t, c.out, p.trust(), []javaWant{{kind: KindSignature, indication: TotalPassed, field: "Signature " + c.alg.name}})

			bad := tamper(t, c.out)
			if c.alg.nss {
				if rep := pdfsig(t, db, bad); !strings.Contains(rep, "Digest Mismatch") {
					t.Fatalf("pdfsig does not see the changed byte:\n%s", rep)
				}
			}
			rep, err := Verify(context.Background(), bad, p.trust())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Signatures) != 1 || rep.Signatures[0].Indication != TotalFailed || rep.Signatures[0].SubIndication != HashFailure {
				t.Fatalf("one signed byte changed: %+v", rep.Signatures)
			}
		})
	}
}

// javaWant is what our verifier must say about one signature.
type javaWant struct {
	field      string // "" for any
	kind       Kind
	indication Indication
	level      string // "" for no check
}

func checkJava(t *testing.T, file string, o VerifyOptions, want []javaWant) {
	t.Helper()
	rep, err := Verify(context.Background(), file, o)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(rep.Signatures) != len(want) {
		t.Fatalf("%d signatures reported, want %d: %+v", len(rep.Signatures), len(want), rep.Signatures)
	}
	for i, w := range want {
		s := rep.Signatures[i]
		if w.field != "" && s.Field != w.field {
			t.Errorf("signature %d: field %q, want %q", i, s.Field, w.field)
		}
		if s.Kind != w.kind || s.Indication != w.indication || (w.level != "" && string(s.Level) != w.level) {
			t.Errorf("signature %d (%s): kind %s, %s/%s, level %q; want kind %s, %s, level %q (problems %v)",
				i, s.Field, s.Kind, s.Indication, s.SubIndication, s.Level, w.kind, w.indication, w.level, s.Problems)
			if dir := os.Getenv("KEEPFAIL"); dir != "" { // a folder to keep the file in
				exec.Command("cp", file, filepath.Join(dir, "fail-"+filepath.Base(file))).Run()
				t.Logf("changes %v", s.Changes)
			}
		}
	}
}

// tamper copies file with one byte of page 1's content stream changed:
// inside the first signed range, far from the cross-reference.
func tamper(t *testing.T, file string) string {
	t.Helper()
	data := mustRead(t, file)
	i := bytes.Index(data, []byte("Page 1 of the deed"))
	if i < 0 {
		t.Fatal("the page's content stream is not in the file as written")
	}
	data[i] ^= 0x20
	bad := filepath.Join(t.TempDir(), "tampered.pdf")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bad
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// signedParts returns, for the n-th /ByteRange of the file (in file order),
// the bytes it covers and the /Contents (BER or DER, its padding removed).
func signedParts(t *testing.T, data []byte, n int) (signed, contents []byte) {
	t.Helper()
	m := byteRangeRE.FindAllSubmatch(data, -1)
	if n >= len(m) {
		t.Fatalf("no /ByteRange #%d (%d found)", n, len(m))
	}
	var br [4]int
	for i := range 4 {
		br[i], _ = strconv.Atoi(string(m[n][i+1]))
	}
	if br[0]+br[1] >= br[2] || br[2]+br[3] > len(data) {
		t.Fatalf("/ByteRange %v does not fit the file", br)
	}
	signed = append(append([]byte{}, data[br[0]:br[0]+br[1]]...), data[br[2]:br[2]+br[3]]...)
	h := bytes.Trim(data[br[0]+br[1]:br[2]], "<> \r\n")
	raw, err := hex.DecodeString(string(h))
	if err != nil {
		t.Fatalf("/Contents: %v", err)
	}
	l, err := berLen(raw)
	if err != nil {
		t.Fatalf("/Contents: %v", err)
	}
	return signed, raw[:l]
}

// berLen is the length of the BER element at the start of b, indefinite
// lengths included (Bouncy Castle writes them).
func berLen(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("truncated element")
	}
	i := 1
	if b[0]&0x1f == 0x1f {
		for i < len(b) && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return 0, fmt.Errorf("truncated tag")
	}
	l := int(b[i])
	i++
	switch {
	case l == 0x80: // indefinite: elements up to the end-of-contents octets
		for {
			if i+1 < len(b) && b[i] == 0 && b[i+1] == 0 {
				return i + 2, nil
			}
			n, err := berLen(b[i:])
			if err != nil {
				return 0, err
			}
			i += n
		}
	case l > 0x80:
		k := l & 0x7f
		if k > 4 || i+k > len(b) {
			return 0, fmt.Errorf("bad length")
		}
		l = 0
		for _, c := range b[i : i+k] {
			l = l<<8 | int(c)
		}
		i += k
	}
	if i+l > len(b) {
		return 0, fmt.Errorf("element longer than its container")
	}
	return i + l, nil
}

// opensslCMSVerify checks the n-th signature of file with openssl cms
// -verify over its signed ranges, up to the roots of rootPEM.
func opensslCMSVerify(t *testing.T, file string, n int, rootPEM string) {
	t.Helper()
	testenv.Require(t, "openssl")
	signed, cms := signedParts(t, mustRead(t, file), n)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sig.der"), cms, 0o644)
	os.WriteFile(filepath.Join(dir, "content.bin"), signed, 0o644)
	out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", filepath.Join(dir, "sig.der"),
		"-content", filepath.Join(dir, "content.bin"), "-binary", "-CAfile", rootPEM, "-purpose", "any",
		"-out", os.DevNull).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification successful") {
		t.Fatalf("openssl cms -verify does not accept signature #%d: %v\n%s", n, err, out)
	}
}

// TestJavaLevels has iText 5 and PDFBox make the PAdES levels against the
// test CA (its TSA, OCSP responder and CRLs) and document time-stamps,
// each checked by tools nobody here wrote before our verifier judges them:
// B-T (a signature time-stamp), B-LT (iText's LtvVerification: /DSS with
// /VRI), B-LTA (a document time-stamp after the /DSS), and a chain of two
// document time-stamps, the second from the other producer.
func TestJavaLevels(t *testing.T) {
	j := testenv.Java(t)
	srv := testenv.StartCA(t, ca.InitOptions{})
	rootPEM := testenv.WriteCertsPEM(t, srv.Root)
	f := javaLevelFiles(t, j, srv, rootPEM)
	db := nssDB(t, srv.Root)
	o := VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy, Name: "test CA"}}}
	sig := func(level string) javaWant {
		return javaWant{field: "Notary", kind: KindSignature, indication: TotalPassed, level: level}
	}
	docTS := func(field string) javaWant {
		return javaWant{field: field, kind: KindDocumentTimestamp, indication: TotalPassed}
	}
	cases := []struct {
		file string
		want []javaWant
	}{
		{"bt-itext.pdf", []javaWant{sig("B-T")}},
		{"bt-pdfbox.pdf", []javaWant{sig("B-T")}},
		{"blt.pdf", []javaWant{sig("B-LT")}},
		{"blta.pdf", []javaWant{sig("B-LTA"), docTS("Archive1")}},
		{"chain.pdf", []javaWant{sig("B-LTA"), docTS("Archive1"), docTS("Archive2")}},
	}
	var files []string
	for _, c := range cases {
		files = append(files, f(c.file))
	}
	itext := map[string][]testenv.ITextVerdict{} // one JVM for all files
	for _, v := range j.VerifyIText(t, files...) {
		itext[v.File] = append(itext[v.File], v)
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			file := f(c.file)
			checkJavaLevelMade(t, file, c.want, db, rootPEM, itext[file])
			checkJava(t, file, o, c.want)
		})
	}
}

// javaLevelFiles has iText and PDFBox sign a document at B-T, then iText
// extend it to B-LT and both add archive time-stamps (B-LTA, a chain of
// two); it returns the path of a file made by name.
func javaLevelFiles(t *testing.T, j *testenv.JavaTools, srv *testenv.CA, rootPEM string) func(name string) string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	p12, pw := testenv.WritePKCS12(t, key, []*x509.Certificate{leaf, srv.Issuer, srv.Root})
	tsa := srv.URL + "/tsa"
	dir := t.TempDir()
	in := filepath.Join(dir, "deed.pdf")
	if err := os.WriteFile(in, makePDF(1, false), 0o644); err != nil {
		t.Fatal(err)
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	sign := func(producer, out string) testenv.JavaJob {
		return testenv.JavaJob{Op: "sign", Producer: producer, In: in, Out: out, PKCS12: p12, Password: pw,
			SubFilter: "ETSI.CAdES.detached", TSA: tsa, TLSRoot: rootPEM, Field: "Notary"}
	}
	jobs := []testenv.JavaJob{
		sign("itext", f("bt-itext.pdf")),
		sign("pdfbox", f("bt-pdfbox.pdf")),
		{Op: "ltv", Producer: "itext", In: f("bt-itext.pdf"), Out: f("blt.pdf")},
		{Op: "timestamp", Producer: "itext", In: f("blt.pdf"), Out: f("blta.pdf"), TSA: tsa, TLSRoot: rootPEM, Field: "Archive1"},
		{Op: "ltv", Producer: "itext", In: f("blta.pdf"), Out: f("blta-ltv.pdf")},
		{Op: "timestamp", Producer: "pdfbox", In: f("blta-ltv.pdf"), Out: f("chain.pdf"), TSA: tsa, TLSRoot: rootPEM, Field: "Archive2"},
	}
	for i, r := range j.Run(t, jobs...) {
		if err := r.Err(); err != nil {
			t.Fatalf("job %d (%s by %s): %v", i, jobs[i].Op, jobs[i].Producer, err)
		}
	}
	return f
}

// checkJavaLevelMade checks what the Java producers made as independent
// tools see it: pdfsig, openssl (the signature and document time-stamps,
// each covering the validation data before it), the /DSS, iText.
func checkJavaLevelMade(t *testing.T, file string, want []javaWant, db, rootPEM string, itext []testenv.ITextVerdict) {
	t.Helper()
	data := mustRead(t, file)
	if rep := pdfsig(t, db, file); !strings.Contains(rep, "Signature is Valid") || !strings.Contains(rep, "Certificate is Trusted") {
		t.Fatalf("pdfsig:\n%s", rep)
	}
	if p := opensslCMSPrint(t, data, 0); !strings.Contains(p, "id-smime-aa-timeStampToken") {
		t.Fatal("the signature carries no signature time-stamp")
	}
	for i, w := range want[1:] {
		n := i + 1
		d := sigDictOf(t, file, w.field)
		if d["/Type"] != "/DocTimeStamp" || d["/SubFilter"] != "/ETSI.RFC3161" {
			t.Fatalf("%s is not a document time-stamp: %v", w.field, d)
		}
		opensslTSVerify(t, data, n, rootPEM)
		// The time-stamped revision holds the validation data.
		if !catalogHas(t, revisionOf(t, data, n), "/DSS") {
			t.Fatalf("%s does not cover a /DSS", w.field)
		}
	}
	if name := filepath.Base(file); strings.HasPrefix(name, "blt") || name == "chain.pdf" {
		dss := dssOf(t, file)
		// OCSP for the signer, CRLs for the CAs (the issuing CA's
		// responder answers for its own certificates only).
		for _, k := range []string{"/Certs", "/OCSPs", "/CRLs", "/VRI"} {
			if dss[k] == nil {
				t.Fatalf("/DSS lacks %s: %v", k, dss)
			}
		}
	}
	if len(itext) != len(want) {
		t.Fatalf("iText sees %d signatures, want %d: %+v", len(itext), len(want), itext)
	}
	for _, v := range itext {
		if v.Integrity != "true" {
			t.Fatalf("iText: %+v", v)
		}
	}
}

// opensslCMSPrint is openssl's dump of the n-th signature's CMS.
func opensslCMSPrint(t *testing.T, data []byte, n int) string {
	t.Helper()
	testenv.Require(t, "openssl")
	_, cms := signedParts(t, data, n)
	p := filepath.Join(t.TempDir(), "sig.der")
	os.WriteFile(p, cms, 0o644)
	out, err := exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", p).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -print: %v\n%s", err, out)
	}
	return string(out)
}

// opensslTSVerify checks the n-th signature, a document time-stamp, with
// openssl ts -verify: the token's imprint against the signed ranges, its
// signature and the TSA's chain up to rootPEM.
func opensslTSVerify(t *testing.T, data []byte, n int, rootPEM string) {
	t.Helper()
	testenv.Require(t, "openssl")
	signed, token := signedParts(t, data, n)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "token.der"), token, 0o644)
	os.WriteFile(filepath.Join(dir, "content.bin"), signed, 0o644)
	out, err := exec.Command("openssl", "ts", "-verify", "-data", filepath.Join(dir, "content.bin"),
		"-in", filepath.Join(dir, "token.der"), "-token_in", "-CAfile", rootPEM).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify does not accept time-stamp #%d: %v\n%s", n, err, out)
	}
}

// revisionOf writes the revision the n-th signature signed (the file up to
// the end of its byte range) and returns its path.
func revisionOf(t *testing.T, data []byte, n int) string {
	t.Helper()
	m := byteRangeRE.FindAllSubmatch(data, -1)
	if n >= len(m) {
		t.Fatalf("no /ByteRange #%d", n)
	}
	c, _ := strconv.Atoi(string(m[n][3]))
	d, _ := strconv.Atoi(string(m[n][4]))
	p := filepath.Join(t.TempDir(), "revision.pdf")
	if err := os.WriteFile(p, data[:c+d], 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// qpdfObject is an object of file as qpdf's JSON (version 2) gives it:
// ref is "N G R" or "trailer"; references inside stay "N G R" strings.
func qpdfObject(t *testing.T, file, ref string) any {
	t.Helper()
	testenv.Require(t, "qpdf")
	sel, key := "trailer", "trailer"
	if ref != "trailer" {
		var num, gen int
		if _, err := fmt.Sscanf(ref, "%d %d R", &num, &gen); err != nil {
			t.Fatalf("not a reference: %q", ref)
		}
		sel, key = fmt.Sprintf("%d,%d", num, gen), "obj:"+ref
	}
	out, err := exec.Command("qpdf", "--json", "--json-key=qpdf", "--json-object="+sel, file).Output()
	if err != nil {
		t.Fatalf("qpdf --json %s: %v", file, err)
	}
	var doc struct{ QPDF []json.RawMessage }
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.QPDF) < 2 {
		t.Fatalf("qpdf --json: %v", err)
	}
	var objs map[string]struct{ Value any }
	if err := json.Unmarshal(doc.QPDF[1], &objs); err != nil {
		t.Fatalf("qpdf --json: %v", err)
	}
	return objs[key].Value
}

// qpdfDict resolves v (a dictionary or a reference to one) in file.
func qpdfDict(t *testing.T, file string, v any) map[string]any {
	t.Helper()
	if s, ok := v.(string); ok && strings.HasSuffix(s, " R") {
		v = qpdfObject(t, file, s)
	}
	d, _ := v.(map[string]any)
	return d
}

func catalog(t *testing.T, file string) map[string]any {
	t.Helper()
	return qpdfDict(t, file, qpdfDict(t, file, qpdfObject(t, file, "trailer"))["/Root"])
}

// catalogHas reports whether the document catalog of file has key.
func catalogHas(t *testing.T, file, key string) bool {
	t.Helper()
	_, ok := catalog(t, file)[key]
	return ok
}

// dssOf is the /DSS dictionary of file, nil without one.
func dssOf(t *testing.T, file string) map[string]any {
	t.Helper()
	return qpdfDict(t, file, catalog(t, file)["/DSS"])
}

// sigDictOf is the signature dictionary (the /V) of the field whose full
// name is field, found by walking /AcroForm /Fields and /Kids as qpdf
// reads the objects. (qpdf's own --json-key=acroform lists fields through
// the pages' widgets, and PDFBox leaves invisible ones out of /Annots.)
func sigDictOf(t *testing.T, file, field string) map[string]any {
	t.Helper()
	form := qpdfDict(t, file, catalog(t, file)["/AcroForm"])
	var walk func(v any, prefix string, depth int) map[string]any
	walk = func(v any, prefix string, depth int) map[string]any {
		d := qpdfDict(t, file, v)
		if d == nil || depth > 8 {
			return nil
		}
		name := prefix
		if s, ok := d["/T"].(string); ok {
			name += strings.TrimPrefix(s, "u:")
		}
		if name == field && d["/V"] != nil {
			return qpdfDict(t, file, d["/V"])
		}
		kids, _ := d["/Kids"].([]any)
		for _, k := range kids {
			if r := walk(k, name+".", depth+1); r != nil {
				return r
			}
		}
		return nil
	}
	fields, _ := form["/Fields"].([]any)
	for _, f := range fields {
		if d := walk(f, "", 0); d != nil {
			return d
		}
	}
	t.Fatalf("qpdf finds no field %q", field)
	return nil
}

// TestJavaLegacySubFilters: the sub-filters of PDF 1.3–1.6 that old
// producers still write, RSA with SHA-1. iText 5 makes both with its own
// PdfPKCS7 (adbe.pkcs7.sha1: the SHA-1 of the ranges encapsulated and
// signed; adbe.x509.rsa_sha1: a bare PKCS#1 signature in /Contents and the
// certificates in /Cert), PDFBox with Bouncy Castle the first. Our verifier
// must call them intact, SHA-1 being weak and not broken, and must see one
// changed byte.
func TestJavaLegacySubFilters(t *testing.T) {
	j := testenv.Java(t)
	p := newJavaPKI(t)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	p12, pw := p.signer(t, "Legacy Signer", rk)
	dir := t.TempDir()
	in := filepath.Join(dir, "deed.pdf")
	if err := os.WriteFile(in, makePDF(1, false), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ producer, subfilter string }{
		{"itext", "adbe.pkcs7.sha1"},
		{"itext", "adbe.x509.rsa_sha1"},
		{"pdfbox", "adbe.pkcs7.sha1"},
	}
	var jobs []testenv.JavaJob
	var files []string
	for _, c := range cases {
		out := filepath.Join(dir, c.producer+"-"+c.subfilter+".pdf")
		jobs = append(jobs, testenv.JavaJob{Op: "sign", Producer: c.producer, In: in, Out: out,
			PKCS12: p12, Password: pw, SubFilter: c.subfilter, Digest: "SHA-1", Field: "Legacy"})
		files = append(files, out)
	}
	for i, r := range j.Run(t, jobs...) {
		if err := r.Err(); err != nil {
			t.Fatalf("%s cannot make %s: %v", cases[i].producer, cases[i].subfilter, err)
		}
	}
	var bad []string
	for _, f := range files {
		bad = append(bad, tamper(t, f))
	}
	itext := j.VerifyIText(t, append(files, bad...)...)
	if len(itext) != 2*len(files) {
		t.Fatalf("iText sees %d signatures in %d files: %+v", len(itext), 2*len(files), itext)
	}
	db := nssDB(t, p.root)
	for i, c := range cases {
		t.Run(c.producer+"/"+c.subfilter, func(t *testing.T) {
			out := files[i]
			if v := itext[i]; v.Integrity != "true" || v.SubFilter != c.subfilter {
				t.Fatalf("iText: %+v", v)
			}
			if v := itext[len(files)+i]; v.Integrity != "false" {
				t.Fatalf("iText on the altered file: %+v", v)
			}
			if c.subfilter == "adbe.x509.rsa_sha1" {
				// pdfsig: "Unable to validate this type of signature".
				opensslRSASHA1Verify(t, out, p.rootPEM)
			} else if rep := pdfsig(t, db, out); !strings.Contains(rep, "Signature is Valid") || !strings.Contains(rep, "Certificate is Trusted") {
				t.Fatalf("pdfsig:\n%s", rep)
			}

			rep, err := Verify(context.Background(), out, p.trust())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Signatures) != 1 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			s := rep.Signatures[0]
			weak := s.Indication == Indeterminate && s.SubIndication == CryptoConstraintsFailureNoPOE
			if s.Kind != KindSignature || s.Indication != TotalPassed && !weak {
				t.Errorf("SHA-1 is weak, not broken: %s %s/%s %v", s.Kind, s.Indication, s.SubIndication, s.Problems)
			}
			rep, err = Verify(context.Background(), bad[i], p.trust())
			if err != nil {
				t.Fatal(err)
			}
			s = rep.Signatures[0]
			// adbe.x509.rsa_sha1 has no digest apart from the one inside
			// the PKCS#1 signature: either sub-indication says it.
			if s.Indication != TotalFailed || s.SubIndication != HashFailure &&
				!(c.subfilter == "adbe.x509.rsa_sha1" && s.SubIndication == SigCryptoFailure) {
				t.Errorf("one signed byte changed: %s/%s %v", s.Indication, s.SubIndication, s.Problems)
			}
		})
	}
}

// opensslRSASHA1Verify checks an adbe.x509.rsa_sha1 signature: the PKCS#1
// signature of /Contents over the signed ranges with the key of the first
// /Cert certificate (openssl dgst), and that certificate's chain up to
// rootPEM (openssl verify).
func opensslRSASHA1Verify(t *testing.T, file, rootPEM string) {
	t.Helper()
	testenv.Require(t, "openssl")
	data := mustRead(t, file)
	signed, contents := signedParts(t, data, 0)
	var sig []byte
	if _, err := asn1.Unmarshal(contents, &sig); err != nil {
		t.Fatalf("/Contents is not an OCTET STRING: %v", err)
	}
	certs, _ := sigDictOf(t, file, "Legacy")["/Cert"].([]any)
	if len(certs) == 0 {
		t.Fatal("no /Cert array")
	}
	var chain []*x509.Certificate
	for _, c := range certs {
		der, err := hex.DecodeString(strings.TrimPrefix(c.(string), "b:"))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, cert)
	}
	dir := t.TempDir()
	pub, _ := x509.MarshalPKIXPublicKey(chain[0].PublicKey)
	os.WriteFile(filepath.Join(dir, "pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644)
	os.WriteFile(filepath.Join(dir, "sig.bin"), sig, 0o644)
	os.WriteFile(filepath.Join(dir, "content.bin"), signed, 0o644)
	out, err := exec.Command("openssl", "dgst", "-sha1", "-verify", filepath.Join(dir, "pub.pem"),
		"-signature", filepath.Join(dir, "sig.bin"), filepath.Join(dir, "content.bin")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl dgst -verify: %v\n%s", err, out)
	}
	leaf := testenv.WriteCertsPEM(t, chain[0])
	untrusted := testenv.WriteCertsPEM(t, chain[1:]...)
	out, err = exec.Command("openssl", "verify", "-CAfile", rootPEM, "-untrusted", untrusted, leaf).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}
