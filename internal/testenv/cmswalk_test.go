package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// openssl -stream writes indefinite lengths, and the content with them;
// DetachContent leaves a detached SignedData openssl still verifies, and
// SignatureValue points at the signature value in BER and in DER.
func TestCMSWalk(t *testing.T) {
	p := NewSignerPKI(t, P256)
	content := []byte("the signed bytes of a PDF")
	ber, err := OpenSSLCMS(t, p, content, CMSSpec{Stream: true, Encapsulate: true})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "ber.der")
	os.WriteFile(f, ber, 0o644)
	parsed, err := exec.Command("openssl", "asn1parse", "-inform", "DER", "-in", f).CombinedOutput()
	if err != nil || !strings.Contains(string(parsed), "l=inf") || !IndefiniteLength(ber) {
		t.Fatalf("not indefinite lengths: %v\n%s", err, parsed)
	}
	if !bytes.Contains(ber, content) {
		t.Fatal("openssl -stream -nodetach did not encapsulate the content")
	}
	detached, err := DetachContent(ber)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(detached, content) || !IndefiniteLength(detached) {
		t.Fatal("the content is still inside")
	}
	if err := OpenSSLVerifyCMS(t, p, append(detached, 0, 0, 0), content); err != nil {
		t.Fatalf("detached: %v", err)
	}
	der, err := OpenSSLCMS(t, p, content, CMSSpec{})
	if err != nil {
		t.Fatal(err)
	}
	for name, cms := range map[string][]byte{"BER": detached, "DER": der} {
		off, n, err := SignatureValue(cms)
		if err != nil || n < 64 || n > 72 || cms[off] != 0x30 {
			t.Fatalf("%s: signature value at %d (%d bytes), %v", name, off, n, err)
		}
		bad := bytes.Clone(cms)
		bad[off+n-1] ^= 1
		err = OpenSSLVerifyCMS(t, p, bad, content)
		if err == nil || !strings.Contains(err.Error(), "verification failure") {
			t.Fatalf("%s: a changed signature value: %v", name, err)
		}
	}
}
