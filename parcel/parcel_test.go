package parcel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/exchange"
	"github.com/paraphe/paraphe/internal/testenv"
)

const password = "correct horse battery staple"

// server is a real exchange behind TLS on loopback, with a professional
// and their client.
type server struct {
	x           *exchange.Exchange
	srv         *httptest.Server
	pro, client *exchange.User
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	if err := exchange.Init(dir, exchange.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	x, err := exchange.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	s := &server{x: x, srv: httptest.NewTLSServer(x.Handler())}
	t.Cleanup(s.srv.Close)
	s.pro = s.account(t, exchange.NewUser{Kind: exchange.Firm, Email: "anne@firm.example", Name: "Anne Martin"})
	s.client = s.account(t, exchange.NewUser{Kind: exchange.Client, Email: "paul@client.example", Name: "Paul Durand", Manager: s.pro.Code})
	return s
}

func (s *server) account(t *testing.T, n exchange.NewUser) *exchange.User {
	t.Helper()
	ctx := context.Background()
	u, link, _, err := s.x.AddUser(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.x.AcceptInvitation(ctx, link[strings.LastIndex(link, "/")+1:], password, password, "test"); err != nil {
		t.Fatal(err)
	}
	return u
}

func (s *server) signedIn(t *testing.T, login string) *Client {
	t.Helper()
	c, err := New(s.srv.URL, s.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SignIn(context.Background(), login, password, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.SignOut(context.Background()) })
	return c
}

// A professional sends a signed PDF and another file to their client,
// who lists, opens and downloads them byte for byte; signing out ends
// the token.
func TestSendAndReceive(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	pro := s.signedIn(t, s.pro.Email)
	if pro.Account.Code != s.pro.Code || pro.Limits.MaxBytes != 4096<<20 || pro.Limits.DefaultDays != 30 {
		t.Fatalf("signed in as %+v with %+v", pro.Account, pro.Limits)
	}
	deed := testenv.OnePagePDF()
	annex := bytes.Repeat([]byte("annexe "), 100000)
	sent, err := pro.Send(ctx, Sending{Recipient: s.client.Code, Title: "Acte", Note: "Bonne lecture.", Days: 7}, []File{
		{Name: "acte.pdf", Size: int64(len(deed)), Body: bytes.NewReader(deed)},
		{Name: "annexe.txt", Size: int64(len(annex)), Body: bytes.NewReader(annex)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Recipient.Code != s.client.Code || !strings.HasSuffix(sent.URL, "/parcels/"+sent.ID) || time.Until(sent.Expires) < 6*24*time.Hour {
		t.Fatalf("sent %+v", sent)
	}
	client := s.signedIn(t, s.client.Code)
	received, _, err := client.Parcels(ctx)
	if err != nil || len(received) != 1 || received[0].ID != sent.ID || received[0].Count != 2 {
		t.Fatalf("received %+v, %v", received, err)
	}
	p, err := client.Parcel(ctx, sent.ID)
	if err != nil || p.Note != "Bonne lecture." || p.Status != "opened" || len(p.Documents) != 2 {
		t.Fatalf("opened %+v, %v", p, err)
	}
	for i, want := range [][]byte{deed, annex} {
		var got bytes.Buffer
		if err := client.Download(ctx, p.ID, p.Documents[i], &got); err != nil || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("document %d: %v", i, err)
		}
	}
	// A listed size that is not the download's is caught.
	bad := p.Documents[0]
	bad.Size++
	if err := client.Download(ctx, p.ID, bad, io.Discard); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a short download: %v", err)
	}
	if err := client.SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Parcels(ctx); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("after sign-out: %v", err)
	}
}

// Each refusal comes back as the condition it is.
func TestRefusals(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	c, _ := New(s.srv.URL, s.srv.Client())
	if err := c.SignIn(ctx, s.pro.Email, "wrong", ""); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	pro := s.signedIn(t, s.pro.Code)
	if _, err := pro.Recipient(ctx, "not an address"); !errors.Is(err, ErrUnknownRecipient) {
		t.Fatalf("unknown recipient: %v", err)
	}
	if _, err := pro.Send(ctx, Sending{Recipient: "not an address", Title: "x"}, []File{{Name: "a", Size: 1, Body: strings.NewReader("a")}}); !errors.Is(err, ErrUnknownRecipient) {
		t.Fatalf("sending to an unknown recipient: %v", err)
	}
	pro.Limits.MaxBytes = 10
	if _, err := pro.Send(ctx, Sending{Recipient: s.client.Code, Title: "x"}, []File{{Name: "a", Size: 11, Body: strings.NewReader(strings.Repeat("a", 11))}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	// Past the client's own check, the exchange refuses it mid-upload.
	s.x.Config.MaxParcelMiB = 1
	pro.Limits.MaxBytes = 0
	big := make([]byte, 3<<20)
	if _, err := pro.Send(ctx, Sending{Recipient: s.client.Code, Title: "x"}, []File{{Name: "big.bin", Size: int64(len(big)), Body: bytes.NewReader(big)}}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large for the exchange: %v", err)
	}
	for range 5 {
		c.SignIn(ctx, s.client.Email, "wrong", "")
	}
	var se *ServerError
	if err := c.SignIn(ctx, s.client.Email, password, ""); !errors.Is(err, ErrLocked) || !errors.As(err, &se) || se.Until.Before(time.Now()) {
		t.Fatalf("locked: %v", err)
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	down, _ := New("https://"+addr, s.srv.Client())
	if err := down.SignIn(ctx, "a", "b", ""); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("nobody there: %v", err)
	}
	portal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>Welcome to the hotel network</html>"))
	}))
	defer portal.Close()
	wrong, _ := New(portal.URL, portal.Client())
	if err := wrong.SignIn(ctx, "a", "b", ""); !errors.Is(err, ErrBadReply) {
		t.Fatalf("a web page: %v", err)
	}
	if _, err := New("http://exchange.example", nil); err == nil {
		t.Fatal("a plain http:// exchange was taken")
	}
}

// End to end: the client registers an encryption certificate, the
// professional gets it with the recipient and sends encrypted to it;
// the exchange holds .p7m files that only the client's key opens.
func TestEndToEnd(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Paul Durand"}, EmailAddresses: []string{s.client.Email},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageKeyAgreement}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	client := s.signedIn(t, s.client.Email)
	if err := client.RegisterCertificate(ctx, []*x509.Certificate{cert}); err != nil {
		t.Fatal(err)
	}
	pro := s.signedIn(t, s.pro.Email)
	r, err := pro.Recipient(ctx, s.client.Code)
	if err != nil || r.Account.Email != s.client.Email || len(r.Chain) != 1 || !r.Chain[0].Equal(cert) {
		t.Fatalf("recipient %+v, %v", r, err)
	}
	deed := testenv.OnePagePDF()
	sent, err := pro.Send(ctx, Sending{Recipient: s.client.Code, Title: "Acte", EncryptTo: r.Chain[:1]},
		[]File{{Name: "acte.pdf", Size: int64(len(deed)), Body: bytes.NewReader(deed)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := client.Parcel(ctx, sent.ID)
	if err != nil || !p.Documents[0].EndToEnd || p.Documents[0].Name != "acte.pdf.p7m" {
		t.Fatalf("the parcel %+v, %v", p, err)
	}
	var sealed bytes.Buffer
	if err := client.Download(ctx, p.ID, p.Documents[0], &sealed); err != nil {
		t.Fatal(err)
	}
	e, err := cms.ReadEnveloped(&sealed)
	if err != nil {
		t.Fatal(err)
	}
	ek, _ := key.ECDH()
	if err := e.Open(cert, ek); err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(e); err != nil || !bytes.Equal(got, deed) {
		t.Fatalf("decrypted: %v", err)
	}
}
