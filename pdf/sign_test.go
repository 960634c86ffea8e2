package pdf

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

func signBytes(t *testing.T, p *testPKI, in []byte, o Options) (string, string) {
	t.Helper()
	inPath, res, err := signFile(t, p, in, o)
	if err != nil {
		t.Fatal(err)
	}
	return inPath, res.Output
}

// signFile writes in to a file and signs it with o, to deed-signed.pdf
// beside it.
func signFile(t *testing.T, p *testPKI, in []byte, o Options) (string, *Result, error) {
	t.Helper()
	inPath := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(inPath, in, 0o644)
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: o}
	res, err := s.SignFile(context.Background(), inPath, OutputName(inPath))
	return inPath, res, err
}

// The interoperability gate: poppler, openssl and qpdf accept what we sign.
func TestSignBBInteroperates(t *testing.T) {
	p := newPKI(t)
	orig := makePDF(2, true)
	in, out := signBytes(t, p, orig, Options{Reason: "Acte authentique", Location: "Paris"})
	got, _ := os.ReadFile(in)
	if !bytes.Equal(got, orig) {
		t.Fatal("the input file changed")
	}
	signed, _ := os.ReadFile(out)
	if !bytes.HasPrefix(signed, orig) {
		t.Fatal("the original bytes are not kept as they were (not an incremental update)")
	}
	db := nssDB(t, p.root)
	report := pdfsig(t, db, out)
	for _, want := range []string{"Signature is Valid", "Certificate is Trusted", "Total document signed", "ETSI.CAdES.detached", "Marie Dupont"} {
		if !strings.Contains(report, want) {
			t.Errorf("pdfsig does not say %q:\n%s", want, report)
		}
	}
	if code, text := qpdfCheck(t, out); code != 0 {
		t.Errorf("qpdf --check exit %d:\n%s", code, text)
	}
	openSSLVerify(t, p, signed)
	testenv.Require(t, "mutool")
	// mutool sign -v exits 0 whatever it finds: its words count.
	if m, _ := exec.Command("mutool", "sign", "-v", out).CombinedOutput(); !strings.Contains(string(m), "The document is unchanged since signing") {
		t.Errorf("mutool sign -v:\n%s", m)
	}
}

// openSSLVerify checks the CMS of the (last) signature with openssl cms
// over the ByteRange bytes.
func openSSLVerify(t *testing.T, p *testPKI, signed []byte) {
	t.Helper()
	testenv.Require(t, "openssl")
	m := regexp.MustCompile(`/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]`).FindAllSubmatch(signed, -1)
	if len(m) == 0 {
		t.Fatal("no /ByteRange")
	}
	last := m[len(m)-1]
	var br [4]int
	for i := range 4 {
		br[i], _ = strconv.Atoi(string(last[i+1]))
	}
	content := append(append([]byte{}, signed[br[0]:br[0]+br[1]]...), signed[br[2]:br[2]+br[3]]...)
	der := lastCMS(signed)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sig.der"), der, 0o644)
	os.WriteFile(filepath.Join(dir, "content.bin"), content, 0o644)
	writePEM(t, filepath.Join(dir, "root.pem"), p.root)
	cmd := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", "sig.der", "-content", "content.bin",
		"-binary", "-CAfile", "root.pem", "-purpose", "any", "-out", os.DevNull)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification successful") {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	cmd = exec.Command("openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "id-smime-aa-signingCertificateV2") || strings.Contains(string(out), "signingTime") {
		t.Fatalf("signed attributes are not PAdES baseline:\n%s", out)
	}
}

// qpdfTransform writes in through qpdf with args (object streams, xref
// streams, encryption…).
func qpdfTransform(t *testing.T, in []byte, args ...string) []byte {
	t.Helper()
	testenv.Require(t, "qpdf")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(src, in, 0o644)
	out, err := exec.Command("qpdf", append(append(args, src), dst)...).CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			t.Fatalf("qpdf %v: %v\n%s", args, err, out)
		}
	}
	data, _ := os.ReadFile(dst)
	return data
}

func TestSignFileStructures(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	base := makePDF(3, true)
	cases := map[string][]byte{
		"classic table":   base,
		"xref stream":     qpdfTransform(t, base, "--object-streams=generate"),
		"object streams":  qpdfTransform(t, base, "--object-streams=generate", "--compress-streams=y"),
		"linearized":      qpdfTransform(t, base, "--linearize"),
		"no trailing EOL": bytes.TrimRight(base, "\n"),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, out := signBytes(t, p, in, Options{})
			report := pdfsig(t, db, out)
			if !strings.Contains(report, "Signature is Valid") || !strings.Contains(report, "Total document signed") {
				t.Fatalf("pdfsig:\n%s", report)
			}
			if code, text := qpdfCheck(t, out); code != 0 {
				t.Fatalf("qpdf --check exit %d:\n%s", code, text)
			}
			// The text field and the form's /DA and /DR are still there.
			dump := qpdfTransform(t, mustRead(t, out), "--qdf", "--object-streams=disable")
			for _, want := range []string{"/T (Client)", "/V (Dupont SA)", "/DA (/Helv 0 Tf 0 g)", "/DR", "/SigFlags 3"} {
				if !bytes.Contains(dump, []byte(want)) {
					t.Errorf("signed file lost %q", want)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSecondSignatureKeepsFirst(t *testing.T) {
	p := newPKI(t)
	db := nssDB(t, p.root)
	_, once := signBytes(t, p, makePDF(1, false), Options{Reason: "first"})
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Reason: "second"}}
	twice := filepath.Join(filepath.Dir(once), "twice.pdf")
	res, err := s.SignFile(context.Background(), once, twice)
	if err != nil {
		t.Fatal(err)
	}
	if res.Field != "Signature2" {
		t.Errorf("second field named %q", res.Field)
	}
	report := pdfsig(t, db, twice)
	if strings.Count(report, "Signature is Valid") != 2 || !strings.Contains(report, "Total document signed") {
		t.Fatalf("pdfsig:\n%s", report)
	}
	openSSLVerify(t, p, mustRead(t, twice))
}

func TestBadInputs(t *testing.T) {
	p := newPKI(t)
	good := makePDF(1, false)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"encrypted", qpdfTransform(t, good, "--encrypt", "user", "owner", "256", "--"), ErrPassword},
		{"another security handler", bytes.Replace(qpdfTransform(t, good, "--encrypt", "", "owner", "256", "--"), []byte("/Filter /Standard"), []byte("/Filter /Unknown1"), 1), ErrEncrypted},
		{"not a pdf", []byte("PK\x03\x04 a zip file, not a PDF"), ErrNotPDF},
		{"truncated", good[:len(good)/3], ErrDamaged},
		{"empty", nil, ErrNotPDF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.pdf")
			os.WriteFile(in, tt.data, 0o644)
			s := &Signer{Key: p.key, Chain: p.chain()}
			_, err := s.SignFile(context.Background(), in, OutputName(in))
			if !errorsIs(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Fatalf("files left behind: %v", entries)
			}
			if !bytes.Equal(mustRead(t, in), tt.data) {
				t.Fatal("the input changed")
			}
		})
	}
	// The output never replaces an existing file, nor the input.
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, good, 0o644)
	s := &Signer{Key: p.key, Chain: p.chain()}
	if _, err := s.SignFile(context.Background(), in, in); !errorsIs(err, ErrSameFile) {
		t.Fatalf("output = input: %v", err)
	}
	os.WriteFile(OutputName(in), []byte("keep me"), 0o644)
	if _, err := s.SignFile(context.Background(), in, OutputName(in)); !errorsIs(err, ErrOutputExists) {
		t.Fatalf("existing output: %v", err)
	}
	if string(mustRead(t, OutputName(in))) != "keep me" {
		t.Fatal("an existing file was overwritten")
	}
}

// lastCMS extracts the DER of the last signature's /Contents, without its
// zero padding.
func lastCMS(signed []byte) []byte {
	m := regexp.MustCompile(`/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]`).FindAllSubmatch(signed, -1)
	if len(m) == 0 {
		return nil
	}
	last := m[len(m)-1]
	var br [4]int
	for i := range 4 {
		br[i], _ = strconv.Atoi(string(last[i+1]))
	}
	hexSig := signed[br[1]+1 : br[2]-1]
	der := make([]byte, len(hexSig)/2)
	for i := range der {
		v, _ := strconv.ParseUint(string(hexSig[2*i:2*i+2]), 16, 8)
		der[i] = byte(v)
	}
	if len(der) > 4 && der[1] == 0x82 {
		der = der[:4+(int(der[2])<<8|int(der[3]))]
	} else if len(der) > 5 && der[1] == 0x83 {
		der = der[:5+(int(der[2])<<16|int(der[3])<<8|int(der[4]))]
	}
	return der
}

// A file signed first by poppler (pdfsig -add-signature, adbe.pkcs7.detached)
// keeps its signature valid after ours.
func TestAfterPopplerSignature(t *testing.T) {
	testenv.Require(t, "pdfsig", "certutil", "pk12util", "openssl")
	dir := t.TempDir()
	sh := func(script string) {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s\n%v\n%s", script, err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "in.pdf"), makePDF(1, true), 0o644)
	sh(`openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 2 -subj "/CN=Poppler Signer" 2>/dev/null
openssl pkcs12 -export -inkey k.pem -in c.pem -out id.p12 -passout pass:x -name other
mkdir nss && certutil -N -d sql:nss --empty-password && pk12util -i id.p12 -d sql:nss -W x >/dev/null
certutil -M -d sql:nss -n other -t C,C,C
pdfsig -add-signature -nssdir sql:nss -nick other in.pdf first.pdf 2>/dev/null`)
	p := newPKI(t)
	s := &Signer{Key: p.key, Chain: p.chain()}
	out := filepath.Join(dir, "both.pdf")
	if _, err := s.SignFile(context.Background(), filepath.Join(dir, "first.pdf"), out); err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "ours.pem"), p.root)
	sh(`certutil -A -d sql:nss -n ours -t C,C,C -i ours.pem`)
	report := pdfsig(t, filepath.Join(dir, "nss"), out)
	if strings.Count(report, "Signature is Valid") != 2 || !strings.Contains(report, "adbe.pkcs7.detached") {
		t.Fatalf("pdfsig:\n%s", report)
	}
	rep, err := Verify(context.Background(), out, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if err != nil || len(rep.Signatures) != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	if first := rep.Signatures[0]; !first.Intact || first.ModifiedAfter {
		t.Fatalf("poppler's signature after ours: %+v", first)
	}
}
