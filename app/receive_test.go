package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/parcel"
)

// The app opens what was encrypted end to end, as paraphe receive does:
// Paul's computer holds his encryption key in the keychain; Anne sends
// him a signed deed encrypted to his registered certificate; in "Received
// folders" he signs in, chooses the folder, saves the document, gives his
// key's PIN, and the deed comes out byte for byte, alone in the folder
// (the ciphertext downloaded beside it is gone); a PIN question
// cancelled writes nothing and leaves no ciphertext behind.
func TestReceiveEndToEnd(t *testing.T) {
	testenv.Slow(t, "a real paraphe-exchange")
	if exchangeErr != "" {
		t.Fatal(exchangeErr)
	}
	x := testenv.StartExchangeProcess(t, exchangeBin, filepath.Join(t.TempDir(), "exchange"))
	x.AddUser(t, "--firm", "anne@firm.example", "Anne Martin", annePassword)
	paul := x.AddUser(t, "--client", "paul@client.example", "Paul Durand", paulPassword, "--manager", "anne@firm.example")
	authority := testenv.StartCA(t, ca.InitOptions{})
	mailCA, paulKey, paulCert := encryptionPKI(t, "paul@client.example")
	policy := testenv.PolicyWith(t, authority.Policy, func(p map[string]any) {
		p["exchange"] = x.URL
		cas := p["ca"].(map[string]any)
		cas["anchors"] = append(cas["anchors"].([]any), ca.Fingerprint(x.TLSRoot(t)))
		p["trust"] = map[string]any{"certificates": []string{mailCA}}
	})
	u := newUI(t, policy)
	keys, err := local.Keychain(u.pol)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Import(paulKey, []*x509.Certificate{paulCert}, []byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := session(t, x, paul, paulPassword).RegisterCertificate(ctx, []*x509.Certificate{paulCert}); err != nil {
		t.Fatal(err)
	}
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	anne := session(t, x, "anne@firm.example", annePassword)
	if _, err := anne.Send(ctx, parcel.Sending{Recipient: paul, Title: "Acte", Note: "Voici l'acte.", Days: 7, EncryptTo: []*x509.Certificate{paulCert}},
		[]parcel.File{{Name: "acte.pdf", Size: int64(len(deed)), Body: bytes.NewReader(deed)}}); err != nil {
		t.Fatal(err)
	}

	test.Tap(findButton(t, u.signer.content, "Received folders"))
	r := u.receiveBox
	test.Type(r.login, paul)
	test.Type(r.password, paulPassword)
	r.Submit()
	u.tasks.Wait()
	if len(r.parcels) == 0 || !r.folders.Visible() {
		t.Fatalf("no folder listed: %q", r.why.Text)
	}
	dir := t.TempDir()
	useBus(t, "unix:path="+filepath.Join(t.TempDir(), "no-bus")) // fyne's own save dialog
	u.files.folder = dir
	r.folders.SetSelectedIndex(0)
	u.tasks.Wait()
	if r.folder == nil || r.folder.Note != "Voici l'acte." || !r.folder.Documents[0].EndToEnd {
		t.Fatalf("the folder shown: %+v", r.folder)
	}
	out := filepath.Join(dir, "acte.pdf")
	saveAs := func() {
		test.Tap(findButton(t, r.detail, "Save…"))
		u.tasks.Wait()
		test.Tap(findButton(t, u.win.Canvas().Overlays().Top(), "Save"))
		u.tasks.Wait()
	}
	// The PIN asked, then cancelled: the ciphertext downloaded is gone,
	// nothing decrypted was written.
	saveAs()
	u.pinDialog.Dismiss()
	if entries, _ := os.ReadDir(dir); len(entries) > 1 || (len(entries) == 1 && entries[0].Name() != "acte.pdf") {
		t.Fatalf("after the PIN was cancelled the folder holds %v", entries)
	}
	if got, _ := os.ReadFile(out); len(got) != 0 {
		t.Fatal("something was written without the key")
	}
	saveAs()
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, deed) {
		t.Fatalf("the deed saved (%v): %d bytes, want %d; the dialog says %q", err, len(got), len(deed), r.why.Text)
	}
	if !strings.Contains(r.why.Text, "Decrypted with the key of certificate") {
		t.Fatalf("the dialog says %q", r.why.Text)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder holds %v", entries)
	}
}

// session is a session on the exchange as login.
func session(t *testing.T, x *testenv.ExchangeProcess, login, password string) *parcel.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(x.TLSRoot(t))
	c, err := parcel.New(x.URL, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignIn(context.Background(), login, password, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.SignOut(context.Background()) })
	return c
}
