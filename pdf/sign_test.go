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
	dir := t.TempDir()
	inPath := filepath.Join(dir, "deed.pdf")
	os.WriteFile(inPath, in, 0o644)
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: o}
	out := OutputName(inPath)
	if _, err := s.SignFile(context.Background(), inPath, out); err != nil {
		t.Fatal(err)
	}
	return inPath, out
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
	hexSig := signed[br[1]+1 : br[2]-1]
	der := make([]byte, len(hexSig)/2)
	for i := range der {
		v, _ := strconv.ParseUint(string(hexSig[2*i:2*i+2]), 16, 8)
		der[i] = byte(v)
	}
	// Trim the zero padding: the DER length is in its header.
	if len(der) > 4 && der[1] == 0x82 {
		der = der[:4+int(der[2])<<8|int(der[3])]
	} else if len(der) > 5 && der[1] == 0x83 {
		der = der[:5+int(der[2])<<16|int(der[3])<<8|int(der[4])]
	}
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
