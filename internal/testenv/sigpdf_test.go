package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The signature update is a well-formed incremental update whose
// /ByteRange covers everything but the /Contents string.
func TestSignatureUpdate(t *testing.T) {
	u, err := NewSignatureUpdate(SigDict{SubFilter: "adbe.pkcs7.detached", Reason: "Vendita (rogito)", Size: 64})
	if err != nil {
		t.Fatal(err)
	}
	base := OnePagePDF()
	if !bytes.HasPrefix(u.PDF, base) {
		t.Fatal("the update does not keep the original bytes")
	}
	br := u.ByteRange
	if br[0] != 0 || br[2]+br[3] != len(u.PDF) || u.PDF[br[1]] != '<' || u.PDF[br[2]-1] != '>' {
		t.Fatalf("/ByteRange %v over %d bytes", br, len(u.PDF))
	}
	signed, err := u.Embed(bytes.Repeat([]byte{0xab}, 64))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Embed(make([]byte, 65)); err == nil {
		t.Fatal("a signature larger than its room was embedded")
	}
	gotBR, _, contents, err := LastSignature(signed)
	if err != nil || gotBR != br || !bytes.Equal(contents, bytes.Repeat([]byte{0xab}, 64)) {
		t.Fatalf("LastSignature: %v %v %x", err, gotBR, contents)
	}
	Require(t, "qpdf")
	f := filepath.Join(t.TempDir(), "signed.pdf")
	os.WriteFile(f, signed, 0o644)
	if out, err := exec.Command("qpdf", "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}
