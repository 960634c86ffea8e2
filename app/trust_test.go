package app

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pdf"
)

func caAndSigner(t *testing.T) (ca *x509.Certificate, signer *x509.Certificate, key crypto.Signer) {
	t.Helper()
	mk := func(name string, isCA bool, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name, Country: []string{"IT"}},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), IsCA: isCA, BasicConstraintsValid: isCA}
		if parent == nil {
			parent, parentKey = tmpl, k
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, k
	}
	ca, caKey := mk("Studio Rossi CA", true, nil, nil)
	signer, key = mk("Avv. Rossi", false, ca, caKey)
	return ca, signer, key
}

// signedDeed signs the demo deed in dir with key and returns the input's
// path (the signed file is pdf.OutputName of it).
func signedDeed(t *testing.T, dir string, ca, signer *x509.Certificate, key crypto.Signer) string {
	t.Helper()
	deed, _ := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	in := filepath.Join(dir, "deed.pdf")
	os.WriteFile(in, deed, 0o644)
	s := &pdf.Signer{Key: key, Chain: []*x509.Certificate{signer, ca}, Opts: pdf.Options{Level: pdf.LevelB}}
	if _, err := s.SignFile(context.Background(), in, pdf.OutputName(in)); err != nil {
		t.Fatal(err)
	}
	return in
}

// confirm taps the button labelled text of the dialog on top of the window.
func confirm(t *testing.T, u *UI, text string) {
	t.Helper()
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog")
	}
	test.Tap(findButton(t, top, text))
}

// TestTrustedCertificatesScreen: a signature from an unknown authority is
// intact but not trusted, and says so; trusting the authority in Settings
// (after its fingerprint is shown) makes it valid; removing it undoes that.
func TestTrustedCertificatesScreen(t *testing.T) {
	ca, signer, key := caAndSigner(t)
	dir := t.TempDir()
	in := signedDeed(t, dir, ca, signer, key)
	caFile := filepath.Join(dir, "studio.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644)

	u := newUI(t, filepath.Join(dir, "no-policy.json"))
	u.verifier.open(pdf.OutputName(in))
	u.tasks.Wait()
	got := texts(u.verifier.result)
	if !strings.Contains(got, "INTACT, SIGNER NOT TRUSTED") || !strings.Contains(got, "Settings → Trusted certificates") {
		t.Fatalf("unknown authority:\n%s", got)
	}
	card := u.prefs.trust
	if b := findButton(t, card.content, u.T("app.trust.add")); b.Disabled() {
		t.Fatal("without a policy the user may trust certificates")
	}
	card.add(caFile)
	if top := u.win.Canvas().Overlays().Top(); top == nil || !strings.Contains(texts(top), "Studio Rossi CA") {
		t.Fatal("the certificate is not shown before it is trusted")
	}
	confirm(t, u, "Yes")
	u.tasks.Wait()
	if !strings.Contains(texts(card.content), "Studio Rossi CA, Italy (you, valid until") {
		t.Fatalf("the card does not list it:\n%s", texts(card.content))
	}
	u.verifier.open(pdf.OutputName(in))
	u.tasks.Wait()
	if got := texts(u.verifier.result); !strings.Contains(got, "VALID") || !strings.Contains(got, "which you added to your trusted certificates") {
		t.Fatalf("after trusting its authority:\n%s", got)
	}
	// Remove: the row's delete button, then Yes.
	var del *widget.Button
	walk(card.list, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "" {
			del = b
		}
	})
	test.Tap(del)
	confirm(t, u, "Yes")
	u.tasks.Wait()
	u.verifier.open(pdf.OutputName(in))
	u.tasks.Wait()
	if got := texts(u.verifier.result); !strings.Contains(got, "SIGNER NOT TRUSTED") {
		t.Fatalf("after removing it:\n%s", got)
	}
}

// TestVerifyUnderUnreadablePolicy: a machine policy broken by a typo is
// said so on the verification screen, and the user's own certificates,
// which the policy would keep out, do not make the signature valid.
func TestVerifyUnderUnreadablePolicy(t *testing.T) {
	ca, signer, key := caAndSigner(t)
	dir := t.TempDir()
	in := signedDeed(t, dir, ca, signer, key)
	policy := filepath.Join(dir, "policy.json")
	os.WriteFile(policy, []byte(`{"version": 1, "ca": {"url": "https://ca.invalid", "anchors": ["`+strings.Repeat("0", 64)+`"]},
		"trust": {"sytem_roots": false}}`), 0o644)
	u := newUI(t, policy)
	st, err := local.UserTrust()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCertificate(ca); err != nil { // trusted while no policy was installed
		t.Fatal(err)
	}
	u.verifier.open(pdf.OutputName(in))
	u.tasks.Wait()
	if got := texts(u.verifier.result); strings.Contains(got, "VALID") || !strings.Contains(got, "sytem_roots") {
		t.Fatalf("under a policy with a typo:\n%s", got)
	}
}
