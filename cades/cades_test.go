package cades

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pdf"
)

// env is a real paraphe-ca (TSA, OCSP, CRLs), a holder's key and
// certificate from it, and a folder with its root as root.pem.
type env struct {
	srv   *testenv.CA
	key   crypto.Signer
	chain []*x509.Certificate
	hc    *http.Client
	dir   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	pol, err := config.ReadPolicy(srv.Policy)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := netclient.NewHTTPClient(pol, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, key: key, chain: []*x509.Certificate{leaf, srv.Issuer, srv.Root}, hc: hc, dir: t.TempDir()}
	os.WriteFile(e.path("root.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Root.Raw}), 0o644)
	return e
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }

func (e *env) signer(level pdf.Level, detached bool) *Signer {
	return &Signer{PDF: &pdf.Signer{Key: e.key, Chain: e.chain, Opts: pdf.Options{Level: level, TSA: e.srv.URL + "/tsa", HTTP: e.hc}}}
}

// trusting verifies with the CA's root as the policy's anchor.
func (e *env) trusting() VerifyOptions {
	fp := sha256.Sum256(e.srv.Root.Raw)
	return VerifyOptions{VerifyOptions: pdf.VerifyOptions{Anchors: [][]byte{fp[:]}}}
}

// trustingCert verifies with the CA's root among the user's trusted
// certificates: what finds the root of a file that does not carry it.
func (e *env) trustingCert() VerifyOptions {
	return VerifyOptions{VerifyOptions: pdf.VerifyOptions{Trust: []pdf.Anchor{{Cert: e.srv.Root, Source: pdf.SourceUser, Name: "root.pem"}}}}
}

// docx is a real (if small) Word document: a zip with the parts Word
// reads, and some random bytes so that no two are alike.
func docx(t *testing.T, extra int) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels":         `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml":   `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Contratto di fornitura</w:t></w:r></w:p></w:body></w:document>`,
	}
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml"} {
		w, _ := z.Create(name)
		w.Write([]byte(parts[name]))
	}
	if extra > 0 {
		w, _ := z.CreateHeader(&zip.FileHeader{Name: "word/media/image1.bin", Method: zip.Store})
		junk := make([]byte, extra)
		rand.Read(junk)
		w.Write(junk)
	}
	z.Close()
	return b.Bytes()
}

func (e *env) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := e.path(name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) sign(t *testing.T, level pdf.Level, detached bool, in string) (string, *pdf.Result) {
	t.Helper()
	out := OutputName(in, detached)
	s := e.signer(level, detached)
	s.Detached = detached
	res, err := s.SignFile(context.Background(), in, out)
	if err != nil {
		t.Fatalf("%s detached %v: %v", level, detached, err)
	}
	return out, res
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	testenv.Require(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

func verdict(t *testing.T, rep *Report) pdf.SignatureReport {
	t.Helper()
	if len(rep.Signatures) != 1 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	return rep.Signatures[0]
}

// The acceptance of issue 17, item 6: a .docx signed attached and
// detached at each level; openssl restores and verifies; our verifier
// passes them with the CA trusted and fails them, HASH_FAILURE, when a
// byte of the content changes; the signature time-stamp verifies with
// openssl ts.
func TestSignDocxOpenSSL(t *testing.T) {
	e := newEnv(t)
	content := docx(t, 200_000) // several segments
	for _, level := range []pdf.Level{pdf.LevelB, pdf.LevelT, pdf.LevelLT} {
		for _, detached := range []bool{false, true} {
			name := fmt.Sprintf("%s detached %v", level, detached)
			in := e.write(t, fmt.Sprintf("contratto-%s-%v.docx", level, detached), content)
			out, res := e.sign(t, level, detached, in)
			if res.Level != level || res.Output != out || (level != pdf.LevelB) == res.TimestampTime.IsZero() {
				t.Fatalf("%s: result %+v", name, res)
			}
			if got, _ := os.ReadFile(in); !bytes.Equal(got, content) {
				t.Fatalf("%s: the input changed", name)
			}
			restored := e.path("restored")
			os.Remove(restored)
			if detached {
				if text, err := run(t, "openssl", "cms", "-verify", "-inform", "DER", "-in", out, "-content", in, "-CAfile", e.path("root.pem"), "-binary", "-out", os.DevNull); err != nil {
					t.Fatalf("%s: openssl cms -verify: %v\n%s", name, err, text)
				}
			} else {
				if text, err := run(t, "openssl", "cms", "-verify", "-inform", "DER", "-in", out, "-CAfile", e.path("root.pem"), "-out", restored); err != nil {
					t.Fatalf("%s: openssl cms -verify: %v\n%s", name, err, text)
				}
				if got, _ := os.ReadFile(restored); !bytes.Equal(got, content) {
					t.Fatalf("%s: openssl restored %d bytes, not the %d signed", name, len(got), len(content))
				}
			}
			rep, err := Verify(context.Background(), out, e.trusting())
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			s := verdict(t, rep)
			if s.Indication != pdf.TotalPassed || s.Level != level || !s.Intact || !s.Trusted || rep.Attached == detached {
				t.Fatalf("%s: %s/%s level %s intact %v trusted %v problems %v", name, s.Indication, s.SubIndication, s.Level, s.Intact, s.Trusted, s.Problems)
			}
			if s.ClaimedTime == nil || s.Certificate == nil || !s.Certificate.Equal(e.chain[0]) {
				t.Fatalf("%s: claimed time %v, certificate %v", name, s.ClaimedTime, s.Certificate)
			}
			if level != pdf.LevelB {
				opensslTimestamp(t, e, out)
			}
			// Untrusted, the same signature is intact but not confirmed.
			rep, err = Verify(context.Background(), out, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if s := verdict(t, rep); s.Indication != pdf.Indeterminate || s.SubIndication != pdf.NoCertificateChainFound || !s.Intact {
				t.Fatalf("%s untrusted: %s/%s", name, s.Indication, s.SubIndication)
			}
			// A byte of the content changed.
			changed := out + ".changed"
			o := e.trusting()
			if detached {
				c := append([]byte{}, content...)
				c[len(c)/2] ^= 1
				o.Content = e.write(t, "changed.docx", c)
				changed = out
			} else {
				p7m, _ := os.ReadFile(out)
				i := bytes.Index(p7m, content[1000:1100])
				if i < 0 {
					t.Fatal("the content is not in the .p7m")
				}
				p7m[i] ^= 1
				os.WriteFile(changed, p7m, 0o644)
			}
			rep, err = Verify(context.Background(), changed, o)
			if err != nil {
				t.Fatalf("%s changed: %v", name, err)
			}
			if s := verdict(t, rep); s.Indication != pdf.TotalFailed || s.SubIndication != pdf.HashFailure {
				t.Fatalf("%s changed: %s/%s", name, s.Indication, s.SubIndication)
			}
		}
	}
}

// opensslTimestamp checks the signature time-stamp of the signature at
// path with openssl ts -verify: over the signature value, by a unit
// chaining to the CA's root.
func opensslTimestamp(t *testing.T, e *env, path string) {
	t.Helper()
	f, _ := os.Open(path)
	defer f.Close()
	r, err := cms.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := r.SignedData()
	if err != nil {
		t.Fatal(err)
	}
	tokens := sd.Signers[0].TimestampTokens()
	if len(tokens) != 1 {
		t.Fatalf("%d time-stamp tokens", len(tokens))
	}
	tok := e.write(t, "token.der", tokens[0])
	data := e.write(t, "signature-value.bin", sd.Signers[0].Signature)
	out, err := run(t, "openssl", "ts", "-verify", "-data", data, "-in", tok, "-token_in", "-CAfile", e.path("root.pem"))
	if err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

// B-LT puts the certificates of both chains and revocation data for the
// signer's and the unit's certificates in the SignedData, where openssl
// finds them; the signature then verifies with the CA's services down.
func TestBLTCarriesValidationData(t *testing.T) {
	e := newEnv(t)
	in := e.write(t, "fattura.xml", []byte(`<?xml version="1.0"?><FatturaElettronica versione="FPR12"/>`))
	out, _ := e.sign(t, pdf.LevelLT, false, in)
	text, err := run(t, "openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"crls:", "d.other:", "1.3.6.1.5.5.7.16.2", "version: 5", "id-smime-aa-timeStampToken", "signingTime"} {
		if !strings.Contains(text, want) {
			t.Fatalf("no %q in the SignedData:\n%s", want, text)
		}
	}
	f, _ := os.Open(out)
	r, _ := cms.NewReader(f)
	sd, err := r.SignedData()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.OCSPs)+len(sd.CRLs) < 2 || len(sd.Certificates) < 4 {
		t.Fatalf("%d OCSP, %d CRL, %d certificates", len(sd.OCSPs), len(sd.CRLs), len(sd.Certificates))
	}
	rep, err := Verify(context.Background(), out, e.trusting())
	if err != nil {
		t.Fatal(err)
	}
	if s := verdict(t, rep); s.Indication != pdf.TotalPassed || s.Level != pdf.LevelLT || s.Revocation != pdf.RevocationGood || s.RevocationSrc != pdf.RevocationEmbedded {
		t.Fatalf("%s/%s level %s revocation %s from %s", s.Indication, s.SubIndication, s.Level, s.Revocation, s.RevocationSrc)
	}
}

// --extract writes the content of a .p7m whole; a .p7s has none to give;
// an existing file is never replaced.
func TestExtract(t *testing.T) {
	e := newEnv(t)
	content := docx(t, 70_000)
	in := e.write(t, "atto.docx", content)
	p7m, _ := e.sign(t, pdf.LevelB, false, in)
	p7s, _ := e.sign(t, pdf.LevelB, true, in)
	o := e.trusting()
	o.Extract = e.path("out.docx")
	if _, err := Verify(context.Background(), p7m, o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(o.Extract); !bytes.Equal(got, content) {
		t.Fatal("the extracted content differs")
	}
	if _, err := Verify(context.Background(), p7m, o); !errors.Is(err, pdf.ErrOutputExists) {
		t.Fatalf("extracting over an existing file: %v", err)
	}
	o.Extract = e.path("other.docx")
	if _, err := Verify(context.Background(), p7s, o); !errors.Is(err, ErrNothingToExtract) {
		t.Fatalf("extracting from a .p7s: %v", err)
	}
	if _, err := os.Stat(o.Extract); err == nil {
		t.Fatal("something was written")
	}
	// A cut .p7m extracts nothing.
	b, _ := os.ReadFile(p7m)
	cut := e.write(t, "cut.docx.p7m", b[:len(b)-200])
	if _, err := Verify(context.Background(), cut, o); !errors.Is(err, ErrNotSignature) {
		t.Fatalf("a cut .p7m: %v", err)
	}
	if _, err := os.Stat(o.Extract); err == nil {
		t.Fatal("a cut .p7m extracted something")
	}
	matches, _ := filepath.Glob(e.path(".*.part"))
	if len(matches) > 0 {
		t.Fatalf("left behind: %v", matches)
	}
}

// Bad requests end with their own error and write nothing.
func TestSignRefusals(t *testing.T) {
	e := newEnv(t)
	in := e.write(t, "a.txt", []byte("hello"))
	s := e.signer(pdf.LevelLTA, false)
	if _, err := s.SignFile(context.Background(), in, in+".p7m"); !errors.Is(err, ErrLevel) {
		t.Fatalf("B-LTA: %v", err)
	}
	s = e.signer(pdf.LevelB, false)
	if _, err := s.SignFile(context.Background(), in, in); !errors.Is(err, pdf.ErrSameFile) {
		t.Fatalf("onto the input: %v", err)
	}
	e.write(t, "a.txt.p7m", []byte("mine"))
	if _, err := s.SignFile(context.Background(), in, in+".p7m"); !errors.Is(err, pdf.ErrOutputExists) {
		t.Fatalf("onto an existing file: %v", err)
	}
	if b, _ := os.ReadFile(in + ".p7m"); string(b) != "mine" {
		t.Fatal("an existing file was replaced")
	}
	s = e.signer(pdf.LevelT, false)
	s.PDF.Opts.TSA = ""
	if _, err := s.SignFile(context.Background(), in, e.path("b.p7m")); !errors.Is(err, pdf.ErrNeedTSA) {
		t.Fatalf("B-T without a TSA: %v", err)
	}
	s = e.signer(pdf.LevelT, false)
	s.PDF.Opts.TSA = "http://" + testenv.Blackhole(t) + "/tsa"
	if _, err := s.SignFile(context.Background(), in, e.path("c.p7m")); !errors.Is(err, pdf.ErrTimestamp) {
		t.Fatalf("an unreachable TSA: %v", err)
	}
	if matches, _ := filepath.Glob(e.path("[bc].p7m*")); len(matches) > 0 {
		t.Fatalf("written: %v", matches)
	}
	if matches, _ := filepath.Glob(e.path(".*.part")); len(matches) > 0 {
		t.Fatalf("left behind: %v", matches)
	}
}

func TestVerifyRefusals(t *testing.T) {
	e := newEnv(t)
	in := e.write(t, "a.txt", []byte("hello"))
	p7s, _ := e.sign(t, pdf.LevelB, true, in)
	p7m, _ := e.sign(t, pdf.LevelB, false, in)
	if _, err := Verify(context.Background(), in, e.trusting()); !errors.Is(err, ErrNotSignature) {
		t.Fatalf("a text file: %v", err)
	}
	os.Rename(in, e.path("moved.txt"))
	if _, err := Verify(context.Background(), p7s, e.trusting()); !errors.Is(err, ErrNoContent) {
		t.Fatalf("no content beside the .p7s: %v", err)
	}
	o := e.trusting()
	o.Content = e.path("moved.txt")
	if rep, err := Verify(context.Background(), p7s, o); err != nil || verdict(t, rep).Indication != pdf.TotalPassed || rep.Content != o.Content {
		t.Fatalf("the content named: %v", err)
	}
	if _, err := Verify(context.Background(), p7m, o); !errors.Is(err, ErrHasContent) {
		t.Fatalf("a content for a .p7m: %v", err)
	}
	other := e.write(t, "sig.bin", mustRead(t, p7s))
	if _, err := Verify(context.Background(), other, e.trusting()); !errors.Is(err, ErrNoContent) {
		t.Fatalf("a detached signature without .p7s: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// .p7m files also travel as PEM or as bare base64 text (Italian
// certified mail): both read as the binary one.
func TestTextForms(t *testing.T) {
	e := newEnv(t)
	in := e.write(t, "a.xml", []byte("<fattura/>"))
	p7m, _ := e.sign(t, pdf.LevelB, false, in)
	der := mustRead(t, p7m)
	b64 := base64.StdEncoding.EncodeToString(der)
	var wrapped strings.Builder
	for i := 0; i < len(b64); i += 76 {
		wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
	}
	for name, data := range map[string][]byte{
		"pem":    pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der}),
		"base64": []byte(wrapped.String()),
	} {
		p := e.write(t, name+".xml.p7m", data)
		o := e.trusting()
		o.Extract = e.path(name + ".xml")
		rep, err := Verify(context.Background(), p, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s := verdict(t, rep); s.Indication != pdf.TotalPassed {
			t.Fatalf("%s: %s/%s", name, s.Indication, s.SubIndication)
		}
		if string(mustRead(t, o.Extract)) != "<fattura/>" {
			t.Fatalf("%s: extracted %q", name, mustRead(t, o.Extract))
		}
	}
}

// Another producer's files: openssl's CAdES (-cades: signing-certificate-v2)
// attached in streamed BER, and detached; and a SignedData with two
// signers, one of them unknown: each judged on its own.
func TestOpenSSLSignatures(t *testing.T) {
	e := newEnv(t)
	content := docx(t, 100_000)
	in := e.write(t, "doc.docx", content)
	pk, _ := x509.MarshalPKCS8PrivateKey(e.key)
	key := e.write(t, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
	leaf := e.write(t, "leaf.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.chain[0].Raw}))
	issuing := e.write(t, "issuing.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.chain[1].Raw}))
	other := testenv.NewSignerPKI(t, testenv.RSA2048)
	sign := func(out string, extra ...string) string {
		args := append([]string{"cms", "-sign", "-binary", "-in", in, "-signer", leaf, "-inkey", key, "-certfile", issuing, "-outform", "DER", "-out", e.path(out)}, extra...)
		if text, err := run(t, "openssl", args...); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, text)
		}
		return e.path(out)
	}
	for _, c := range []struct {
		file    string
		args    []string
		level   pdf.Level
		signers int
	}{
		{"cades.docx.p7m", []string{"-nodetach", "-stream", "-cades"}, pdf.LevelB, 1},
		{"plain.docx.p7m", []string{"-nodetach"}, pdf.LevelPKCS7B, 1},
		{"doc.docx.p7s", []string{"-cades"}, pdf.LevelB, 1},
		{"two.docx.p7m", []string{"-nodetach", "-cades", "-signer", other.File("leaf.pem"), "-inkey", other.File("key.pem")}, pdf.LevelB, 2},
	} {
		p := sign(c.file, c.args...)
		rep, err := Verify(context.Background(), p, e.trustingCert())
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(rep.Signatures) != c.signers {
			t.Fatalf("%s: %d signatures", c.file, len(rep.Signatures))
		}
		if s := rep.Signatures[0]; s.Indication != pdf.TotalPassed || s.Level != c.level {
			t.Fatalf("%s: %s/%s level %s problems %v", c.file, s.Indication, s.SubIndication, s.Level, s.Problems)
		}
		if c.signers == 2 {
			if s := rep.Signatures[1]; s.Indication != pdf.Indeterminate || s.SubIndication != pdf.NoCertificateChainFound || !s.Intact {
				t.Fatalf("%s, the unknown signer: %s/%s", c.file, s.Indication, s.SubIndication)
			}
		}
	}
}

// A batch signs its files in parallel with one pdf.Signer: the CAdES
// signer shares its time-stamp sample and validation data (fetched once),
// each file gets its own time-stamp, and every signature verifies.
func TestBatch(t *testing.T) {
	e := newEnv(t)
	s := e.signer(pdf.LevelLT, false)
	var jobs []pdf.Job
	for i := range 6 {
		in := e.write(t, fmt.Sprintf("fattura-%d.xml", i), []byte(fmt.Sprintf("<fattura n=%q/>", fmt.Sprint(i))))
		detached := i%2 == 1
		fs := &Signer{PDF: s.PDF, Detached: detached}
		jobs = append(jobs, pdf.Job{In: in, Out: OutputName(in, detached), Signer: fs})
	}
	results := s.PDF.SignFiles(context.Background(), jobs, pdf.Progress{})
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("%s: %v", jobs[i].In, r.Err)
		}
		rep, err := Verify(context.Background(), r.Output, e.trusting())
		if err != nil {
			t.Fatal(err)
		}
		if s := verdict(t, rep); s.Indication != pdf.TotalPassed || s.Level != pdf.LevelLT {
			t.Fatalf("%s: %s/%s %s", r.Output, s.Indication, s.SubIndication, s.Level)
		}
	}
}
