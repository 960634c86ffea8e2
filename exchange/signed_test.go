package exchange

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

// signedPDF is the demo deed signed by the suite's signer with a test
// PKI's key: a real PAdES signature for the recipient's page to judge.
func signedPDF(t *testing.T) (*testenv.SignerPKI, []byte) {
	t.Helper()
	pki := testenv.NewSignerPKI(t, testenv.P256)
	out := filepath.Join(t.TempDir(), "signed.pdf")
	s := &pdf.Signer{Key: pki.Key, Chain: []*x509.Certificate{pki.Leaf, pki.Issuing, pki.Root}}
	if _, err := s.SignFile(context.Background(), filepath.Join("..", "assets", "demo", "deed.pdf"), out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return pki, data
}
