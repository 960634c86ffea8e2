package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/parcel"
)

const (
	annePassword = "correct horse battery staple"
	paulPassword = "a long and winding road home"
)

// sendButton is the "Send securely" button of a signed file's row.
func sendButton(t *testing.T, row *signRow) *widget.Button {
	t.Helper()
	for _, o := range row.actions.Objects {
		if b, ok := o.(*widget.Button); ok && b.Text == "Send securely" {
			return b
		}
	}
	t.Fatalf("the signed file's row offers no Send securely: %s", texts(row.actions))
	return nil
}

// Acceptance 5 of issue 20, the app's half: a deed signed in the app goes
// from its row's "Send securely" to a client on a real paraphe-exchange
// (over HTTPS, whose root the machine policy names); a wrong password
// keeps the dialog open with what to do; the client collects the deed
// byte for byte and pdfsig calls its signature valid; the next folder
// needs no sign-in, and closing the app ends the session on the exchange.
func TestSendSecurely(t *testing.T) {
	testenv.Slow(t, "a real paraphe-exchange and a client collecting the deed")
	f := newSendFixture(t)
	u, x, row := f.u, f.x, f.row
	test.Tap(sendButton(t, row))
	d := u.sendBox
	test.Type(d.login, "anne@firm.example")
	test.Type(d.password, "wrong password")
	test.Type(d.to, f.paul)
	test.Type(d.note, "Voici l'acte signé.")
	d.Submit()
	u.tasks.Wait()
	if !d.why.Visible() || !strings.Contains(d.why.Text, "wrong user code, e-mail address or password") || u.exchange != nil {
		t.Fatalf("a wrong password: %q (session %v)", d.why.Text, u.exchange != nil)
	}
	test.Type(d.password, annePassword)
	d.Submit()
	u.tasks.Wait()
	if !strings.Contains(u.shown, "Sent to Paul Durand <paul@client.example>, available until") {
		t.Fatalf("sent: %q (the dialog says %q)", u.shown, d.why.Text)
	}
	if m := x.Mail.Last(t, "paul@client.example"); !strings.Contains(m.Subject, "Anne Martin") {
		t.Fatalf("the notice to Paul: %q", m.Subject)
	}
	signed, _ := os.ReadFile(row.out)
	received, _ := collect(t, x, f.paul, u.sendBox.done, "Voici l'acte signé.")
	if !bytes.Equal(received, signed) {
		t.Fatal("the deed Paul collected is not the signed copy")
	}
	file := filepath.Join(t.TempDir(), "received.pdf")
	os.WriteFile(file, received, 0o644)
	nss := testenv.NewNSSDB(t)
	nss.Trust(t, f.ca.Root)
	if out := nss.Pdfsig(t, file); !strings.Contains(out, "Signature Validation: Signature is Valid.") {
		t.Fatalf("pdfsig:\n%s", out)
	}

	// The next folder: signed in already.
	test.Tap(sendButton(t, row))
	if u.sendBox.signIn.Visible() {
		t.Fatal("the sign-in is asked again")
	}
	test.Type(u.sendBox.to, "zoe@client.example")
	u.sendBox.Submit()
	u.tasks.Wait()
	if !strings.Contains(u.shown, "Sent to zoe") {
		t.Fatalf("the second folder: %q", u.shown)
	}
	sendEndToEnd(t, f, signed)
	u.Close()
	// The exchange's log comes through a pipe from its process: the line
	// may follow the answer the app had.
	ended := regexp.MustCompile(regexp.QuoteMeta(`"method":"DELETE","path":"/api/v1/token","status":204`))
	if !x.Log.WaitFor(ended, 10*time.Second) {
		t.Fatal("closing the app did not end the session on the exchange")
	}
}

// sendFixture is a signed deed on the Sign screen of an app whose policy
// names a real paraphe-exchange (its TLS root among the anchors) and
// trusts the clients' mail CA, Anne of the firm and Paul her client.
type sendFixture struct {
	u        *UI
	x        *testenv.ExchangeProcess
	ca       *testenv.CA
	row      *signRow
	paul     string // his user code
	paulKey  *ecdsa.PrivateKey
	paulCert *x509.Certificate // his encryption certificate
}

func newSendFixture(t *testing.T) *sendFixture {
	t.Helper()
	if exchangeErr != "" {
		t.Fatal(exchangeErr)
	}
	f := &sendFixture{x: testenv.StartExchangeProcess(t, exchangeBin, filepath.Join(t.TempDir(), "exchange"))}
	f.x.AddUser(t, "--firm", "anne@firm.example", "Anne Martin", annePassword)
	f.paul = f.x.AddUser(t, "--client", "paul@client.example", "Paul Durand", paulPassword, "--manager", "anne@firm.example")
	f.ca = testenv.StartCA(t, ca.InitOptions{})
	var mailCA string
	mailCA, f.paulKey, f.paulCert = encryptionPKI(t, "paul@client.example")
	policy := testenv.PolicyWith(t, f.ca.Policy, func(p map[string]any) {
		p["exchange"] = f.x.URL
		cas := p["ca"].(map[string]any)
		cas["anchors"] = append(cas["anchors"].([]any), ca.Fingerprint(f.x.TLSRoot(t)))
		p["trust"] = map[string]any{"certificates": []string{mailCA}} // the clients' mail CA, which IT trusts
	})
	f.u = newUI(t, policy)
	w := activate(t, f.u, f.ca.Enroll(t), testenv.Answers)
	test.Tap(w.primary)
	if !signDeed(t, f.u, testPIN) {
		t.Fatalf("not signed: %s", f.u.signer.files[0].status.Text)
	}
	f.row = f.u.signer.files[0]
	return f
}

// sendEndToEnd sends the signed copy end to end: refused while Paul has
// registered no encryption certificate, said in the dialog; once he has,
// what the exchange holds opens with his key alone.
func sendEndToEnd(t *testing.T, f *sendFixture, signed []byte) {
	t.Helper()
	u := f.u
	test.Tap(sendButton(t, f.row))
	test.Type(u.sendBox.to, f.paul)
	u.sendBox.e2e.SetChecked(true)
	u.sendBox.Submit()
	u.tasks.Wait()
	if !u.sendBox.why.Visible() || !strings.Contains(u.sendBox.why.Text, "registered no encryption certificate") {
		t.Fatalf("end to end before Paul registered a certificate: %q", u.sendBox.why.Text)
	}
	if err := signedIn(t, f.x, f.paul).RegisterCertificate(context.Background(), []*x509.Certificate{f.paulCert}); err != nil {
		t.Fatal(err)
	}
	u.sendBox.Submit()
	u.tasks.Wait()
	if !strings.Contains(u.shown, "Sent to Paul Durand") {
		t.Fatalf("end to end: %q (the dialog says %q)", u.shown, u.sendBox.why.Text)
	}
	sealed, e2e := collect(t, f.x, f.paul, u.sendBox.done, "")
	if !e2e {
		t.Fatal("the folder is not end to end")
	}
	env, err := cms.ReadEnveloped(bytes.NewReader(sealed))
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := f.paulKey.ECDH()
	if err := env.Open(f.paulCert, ek); err != nil {
		t.Fatal(err)
	}
	if opened, err := io.ReadAll(env); err != nil || !bytes.Equal(opened, signed) {
		t.Fatalf("decrypted with Paul's key: %v", err)
	}
}

// signedIn is a session on the exchange as login (the client's password).
func signedIn(t *testing.T, x *testenv.ExchangeProcess, login string) *parcel.Client {
	t.Helper()
	return session(t, x, login, paulPassword)
}

// collect is what the client downloads of the folder sent, whose note
// must be note, and whether it is end to end; the client's list holds it.
func collect(t *testing.T, x *testenv.ExchangeProcess, login string, sent *parcel.Sent, note string) ([]byte, bool) {
	t.Helper()
	c, ctx := signedIn(t, x, login), context.Background()
	received, _, err := c.Parcels(ctx)
	if err != nil || !slices.ContainsFunc(received, func(p parcel.Parcel) bool { return p.ID == sent.ID }) {
		t.Fatalf("the folder sent is not among the %d received: %v", len(received), err)
	}
	p, err := c.Parcel(ctx, sent.ID)
	if err != nil || p.Note != note || len(p.Documents) != 1 {
		t.Fatalf("the folder: %+v, %v", p, err)
	}
	var b bytes.Buffer
	if err := c.Download(ctx, p.ID, p.Documents[0], &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), p.Documents[0].EndToEnd
}

// encryptionPKI is a clients' mail CA (its PEM file) and a client's EC
// encryption certificate for email, with its key.
func encryptionPKI(t *testing.T, email string) (string, *ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Client Mail CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 1, 0), KeyUsage: x509.KeyUsageCertSign}
	rootDER, _ := x509.CreateCertificate(rand.Reader, root, root, caKey.Public(), caKey)
	root, _ = x509.ParseCertificate(rootDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Paul Durand"}, EmailAddresses: []string{email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 1, 0), KeyUsage: x509.KeyUsageKeyAgreement,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(leafDER)
	file := filepath.Join(t.TempDir(), "mailca.pem")
	os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}), 0o644)
	return file, key, cert
}
