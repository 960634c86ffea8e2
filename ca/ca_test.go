package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// newCA makes a CA for the test, on this pass's database (testDatabase).
func newCA(t testing.TB, o InitOptions) *Authority {
	t.Helper()
	o.Database = testDatabase(t)
	dir := filepath.Join(t.TempDir(), "ca")
	if err := Init(dir, o); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func holder() Holder {
	return Holder{Name: "Luca Bianchi", Title: "Ingegnere", MemberNumber: "MI-4471", Organization: "Ordine degli Ingegneri di Milano",
		Email: "luca@example.org", Questions: []Question{
			{"Città natale?", "Bergamo"}, {"Primo animale?", "Fido"}, {"Scuola?", "Manzoni"}, {"Colore?", "Blu"}, {"Squadra?", "Atalanta"},
		}}
}

var answers = map[string]string{"Città natale?": "bergamo", "Primo animale?": "FIDO", "Scuola?": " Manzoni", "Colore?": "blu", "Squadra?": "atalanta"}

func rightAnswers(t testing.TB, q *protocol.Questions) []string {
	t.Helper()
	var out []string
	for _, text := range q.Questions {
		out = append(out, answers[text])
	}
	return out
}

func csrFor(t testing.TB, key crypto.Signer) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	return csr
}

func p256(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func apiCode(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// activate runs the whole protocol for ref and returns the certificate.
func activate(t testing.TB, a *Authority, ref string, key crypto.Signer) (*x509.Certificate, error) {
	t.Helper()
	ctx := context.Background()
	q, err := a.Questions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := a.Answer(ctx, ref, rightAnswers(t, q))
	if err != nil {
		t.Fatal(err)
	}
	csr := csrFor(t, key)
	return a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo), csr)
}

func TestIssuedCertificate(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref, err := a.Enroll(context.Background(), holder())
	if err != nil {
		t.Fatal(err)
	}
	key := p256(t)
	cert, err := activate(t, a, ref, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "Luca Bianchi" || cert.Subject.SerialNumber != "MI-4471" ||
		cert.Subject.Organization[0] != "Ordine degli Ingegneri di Milano" || cert.EmailAddresses[0] != "luca@example.org" {
		t.Errorf("subject %v", cert.Subject)
	}
	var title string
	for _, n := range cert.Subject.Names {
		if n.Type.Equal(oidTitle) {
			title, _ = n.Value.(string)
		}
	}
	if title != "Ingegnere" {
		t.Errorf("title %q", title)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %v", cert.KeyUsage)
	}
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) || len(cert.UnknownExtKeyUsage) != 1 || !cert.UnknownExtKeyUsage[0].Equal(oidDocumentSigning) {
		t.Errorf("EKU %v %v", cert.ExtKeyUsage, cert.UnknownExtKeyUsage)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(a.Root)
	inter.AddCert(a.Issuer)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Fatal(err)
	}
	// The reference is spent.
	q, _ := a.Questions(context.Background(), ref)
	if q.State != protocol.StateUsed || len(q.Questions) != 0 {
		t.Fatalf("after use: %+v", q)
	}
	if _, err := activate2(a, ref); apiCode(err) != protocol.CodeUsed {
		t.Fatalf("answers on a used code: %v", err)
	}
}

func activate2(a *Authority, ref string) (any, error) {
	return a.Answer(context.Background(), ref, []string{"bergamo", "fido", "manzoni"})
}

func TestAnswersTwoOfThree(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref, _ := a.Enroll(context.Background(), holder())
	q, err := a.Questions(context.Background(), ref)
	if err != nil || len(q.Questions) != 3 || q.AttemptsLeft != 5 {
		t.Fatalf("questions %+v %v", q, err)
	}
	ans := rightAnswers(t, q)
	ans[1] = "wrong"
	if _, err := a.Answer(context.Background(), ref, ans); err != nil {
		t.Fatalf("two of three right refused: %v", err)
	}
	ans[0] = "wrong too"
	_, err = a.Answer(context.Background(), ref, ans)
	var e *APIError
	if !errors.As(err, &e) || e.Code != protocol.CodeWrongAnswers || *e.AttemptsLeft != 4 {
		t.Fatalf("one of three right: %v", err)
	}
}

func TestLockAfterFiveFailures(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref, _ := a.Enroll(context.Background(), holder())
	wrong := []string{"a", "b", "c"}
	for left := 4; left >= 0; left-- {
		_, err := a.Answer(context.Background(), ref, wrong)
		var e *APIError
		if !errors.As(err, &e) || *e.AttemptsLeft != left {
			t.Fatalf("want %d left: %v", left, err)
		}
		if left == 0 && e.Code != protocol.CodeLocked {
			t.Fatalf("last failure: %s, want %s", e.Code, protocol.CodeLocked)
		}
	}
	q, _ := a.Questions(context.Background(), ref)
	if q.State != protocol.StateLocked {
		t.Fatalf("state %s", q.State)
	}
	if _, err := activate2(a, ref); apiCode(err) != protocol.CodeLocked {
		t.Fatalf("right answers on a locked code: %v", err)
	}
	// The operator reissues; the new code works, the old one stays dead.
	newRef, err := a.Reissue(context.Background(), ref, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := activate(t, a, newRef, p256(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reissue(context.Background(), newRef, false); err != nil {
		t.Fatalf("reissue of a used code: %v", err)
	}
}

func TestExpiredReference(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref, _ := a.Enroll(context.Background(), holder())
	if _, err := a.db.Exec(`UPDATE refs SET expires = ? WHERE code = ?`, time.Now().Add(-time.Second).Unix(), ref); err != nil {
		t.Fatal(err)
	}
	q, _ := a.Questions(context.Background(), ref)
	if q.State != protocol.StateExpired {
		t.Fatalf("state %s", q.State)
	}
	if _, err := activate2(a, ref); apiCode(err) != protocol.CodeExpired {
		t.Fatalf("answers on an expired code: %v", err)
	}
}

func TestReissueRefusesUsableCode(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref, _ := a.Enroll(context.Background(), holder())
	if _, err := a.Reissue(context.Background(), ref, false); !errors.Is(err, ErrStillUsable) {
		t.Fatalf("reissue of a pending code: %v", err)
	}
	newRef, err := a.Reissue(context.Background(), ref, true)
	if err != nil {
		t.Fatal(err)
	}
	if q, _ := a.Questions(context.Background(), ref); q.State != protocol.StateExpired {
		t.Fatalf("replaced code is %s", q.State)
	}
	if q, _ := a.Questions(context.Background(), newRef); q.State != protocol.StatePending {
		t.Fatalf("new code is %s", q.State)
	}
}

func TestEnrollAuthentication(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := context.Background()
	ref, _ := a.Enroll(ctx, holder())
	q, _ := a.Questions(ctx, ref)
	auth, err := a.Answer(ctx, ref, rightAnswers(t, q))
	if err != nil {
		t.Fatal(err)
	}
	key, other := p256(t), p256(t)
	csr := csrFor(t, key)
	otherCSR := csrFor(t, other)
	// A password computed for another key (a swapped key) is refused.
	if _, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, otherCSR.RawSubjectPublicKeyInfo), csr); apiCode(err) != protocol.CodeUnauthorized {
		t.Fatalf("swapped key: %v", err)
	}
	if _, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword("guess", csr.RawSubjectPublicKeyInfo), csr); apiCode(err) != protocol.CodeUnauthorized {
		t.Fatalf("wrong code: %v", err)
	}
	// An RSA key when the CA asks for P-256.
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rcsr := csrFor(t, rk)
	if _, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, rcsr.RawSubjectPublicKeyInfo), rcsr); apiCode(err) != protocol.CodeBadCSR {
		t.Fatalf("wrong key type: %v", err)
	}
	// An expired authorization.
	a.db.Exec(`UPDATE refs SET auth_expires = ? WHERE code = ?`, time.Now().Add(-time.Second).Unix(), ref)
	if _, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo), csr); apiCode(err) != protocol.CodeAuthExpired {
		t.Fatalf("expired authorization: %v", err)
	}
}

func TestReenroll(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := context.Background()
	ref, _ := a.Enroll(ctx, holder())
	first, err := activate(t, a, ref, p256(t))
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Subject.String() != first.Subject.String() || second.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("successor differs in subject or repeats the serial")
	}
	if _, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), ""); apiCode(err) != protocol.CodeAlreadyRenewed {
		t.Fatalf("second renewal: %v", err)
	}
	if err := a.Revoke(ctx, serialHex(second.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if err := a.Revoke(ctx, serialHex(second.SerialNumber), "keyCompromise"); !errors.Is(err, ErrAlreadyRevoked) {
		t.Fatalf("revoke twice: %v", err)
	}
	if _, err := a.Reenroll(ctx, second, csrFor(t, p256(t)), ""); apiCode(err) != protocol.CodeRevoked {
		t.Fatalf("renewal of a revoked certificate: %v", err)
	}
	if err := a.Revoke(ctx, "00ff", ""); !errors.Is(err, ErrUnknownSerial) {
		t.Fatalf("unknown serial: %v", err)
	}
}

func TestEnrollValidation(t *testing.T) {
	a := newCA(t, InitOptions{})
	tests := []struct {
		name  string
		edit  func(*Holder)
		field string
	}{
		{"no name", func(h *Holder) { h.Name = " " }, "name"},
		{"two questions", func(h *Holder) { h.Questions = h.Questions[:2] }, "questions"},
		{"six questions", func(h *Holder) { h.Questions = append(h.Questions, Question{"x?", "y"}) }, "questions"},
		{"empty answer", func(h *Holder) { h.Questions[1].Answer = "   " }, "questions[1].answer"},
		{"repeated question", func(h *Holder) { h.Questions[2].Question = h.Questions[0].Question }, "questions[2].question"},
		{"bad email", func(h *Holder) { h.Email = "not an address" }, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := holder()
			tt.edit(&h)
			_, err := a.Enroll(context.Background(), h)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Fatalf("got %v, want a problem with %s", err, tt.field)
			}
		})
	}
}

func TestAnswerHash(t *testing.T) {
	h := hashAnswer("Montréal")
	if !checkAnswer(h, "  MONTREAL") || checkAnswer(h, "Montreuil") || checkAnswer("garbage", "Montréal") {
		t.Fatal("answer hash check")
	}
	if h == hashAnswer("Montréal") {
		t.Fatal("hash is not salted")
	}
}

func TestInitRSAAndExists(t *testing.T) {
	if testing.Short() {
		t.Skip("RSA-3072 key generation")
	}
	dir := filepath.Join(t.TempDir(), "ca")
	if err := Init(dir, InitOptions{KeyType: protocol.KeyRSA3072, HolderKeyType: protocol.KeyRSA3072}); err != nil {
		t.Fatal(err)
	}
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, ok := a.Root.PublicKey.(*rsa.PublicKey); !ok {
		t.Fatalf("root key %T", a.Root.PublicKey)
	}
	if err := Init(dir, InitOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second init: %v", err)
	}
}

func TestRenewalCoupons(t *testing.T) {
	a := newCA(t, InitOptions{RenewalCoupon: true})
	ctx := context.Background()
	ref, _ := a.Enroll(ctx, holder())
	first, err := activate(t, a, ref, p256(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), ""); apiCode(err) != protocol.CodeCouponRequired {
		t.Fatalf("no coupon: %v", err)
	}
	if _, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), protocol.NewRefCode()); apiCode(err) != protocol.CodeCouponInvalid {
		t.Fatalf("unknown coupon: %v", err)
	}
	codes, err := a.CreateCoupons(ctx, 2)
	if err != nil || len(codes) != 2 {
		t.Fatal(err)
	}
	second, err := a.Reenroll(ctx, first, csrFor(t, p256(t)), strings.ToLower(codes[0]))
	if err != nil {
		t.Fatal(err)
	}
	// The coupon is spent: the successor cannot renew with it.
	if _, err := a.Reenroll(ctx, second, csrFor(t, p256(t)), codes[0]); apiCode(err) != protocol.CodeCouponInvalid {
		t.Fatalf("coupon used twice: %v", err)
	}
	if _, err := a.Reenroll(ctx, second, csrFor(t, p256(t)), codes[1]); err != nil {
		t.Fatal(err)
	}
}

func TestParseSerial(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"10a7b", "10a7b"},
		{"010A7B", "10a7b"},
		{"serial=010A7B", "10a7b"},
		{" Serial = 010a7b\n", "10a7b"},
		{"01:0a:7b", "10a7b"},
		{"0x10A7B", "10a7b"},
		{"0000ff", "ff"},
	} {
		if got, err := ParseSerial(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseSerial(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "serial=", "xyz", "12 34", "-1a", "0x", strings.Repeat("f", 65)} {
		if _, err := ParseSerial(bad); !errors.Is(err, ErrSerialFormat) {
			t.Errorf("ParseSerial(%q): %v, want ErrSerialFormat", bad, err)
		}
	}
}
