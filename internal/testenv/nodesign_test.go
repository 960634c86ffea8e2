package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// node-signpdf installs from the npm registry (once per machine) and signs
// what pdfsig calls valid.
func TestNodeSignPDF(t *testing.T) {
	p := NewSignerPKI(t, RSA2048)
	n := NewNodeSignPDF(t)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(in, OnePagePDF(), 0o644)
	if err := n.Sign(t, p, in, out, "Prova"); err != nil {
		t.Fatal(err)
	}
	db := NewNSSDB(t)
	db.Trust(t, p.Root)
	if report := db.Pdfsig(t, out); !strings.Contains(report, "Signature is Valid") || !strings.Contains(report, "Certificate is Trusted") {
		t.Fatalf("pdfsig:\n%s", report)
	}
}
