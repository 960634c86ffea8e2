package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pdfsig signs with an EC key despite its placeholder bug, and its
// signature is valid for pdfsig.
func TestPdfsigSign(t *testing.T) {
	p := NewSignerPKI(t, P256)
	db := NewNSSDB(t)
	nick, err := db.AddSigner(t, p)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(in, OnePagePDF(), 0o644)
	if err := db.PdfsigSign(t, in, out, PdfsigSignOptions{Nick: nick, Reason: "Prova"}); err != nil {
		t.Fatal(err)
	}
	if report := db.Pdfsig(t, out); !strings.Contains(report, "Signature is Valid") || !strings.Contains(report, "Certificate is Trusted") {
		t.Fatalf("pdfsig:\n%s", report)
	}
}
