package testenv

import (
	"context"
	"crypto"
	"crypto/x509"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/protocol"
)

// Delegate is a second test holder: an engineer a supplier delegates to.
func Delegate() ca.Holder {
	return ca.Holder{
		Name: "Luca Bianchi", Title: "Ingegnere", MemberNumber: "MI-5678",
		Organization: "Ordine degli Ingegneri di Milano", Email: "luca.bianchi@example.org",
		Questions: []ca.Question{
			{Question: "Città natale?", Answer: "Bergamo"},
			{Question: "Nome del primo animale?", Answer: "Fido"},
			{Question: "Scuola elementare?", Answer: "Manzoni"},
		},
	}
}

// IssueTo is activation's work on the CA's side, done in process: holder
// h enrolled in a, its questions answered with its own answers, and the
// certificate issued for key. It returns the chain a computer keeps:
// leaf, issuing CA, root. (Generating the key in a store and keeping the
// chain beside it is the caller's: this package may not import pkcs,
// whose tests use it.)
func IssueTo(t testing.TB, a *ca.Authority, h ca.Holder, key crypto.Signer) []*x509.Certificate {
	t.Helper()
	ctx := context.Background()
	ref, err := a.Enroll(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	q, err := a.Questions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	var answers []string
	for _, shown := range q.Questions {
		for _, hq := range h.Questions {
			if hq.Question == shown {
				answers = append(answers, hq.Answer)
			}
		}
	}
	auth, err := a.Answer(ctx, ref, answers)
	if err != nil {
		t.Fatal(err)
	}
	csr := CSR(t, key)
	leaf, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo), csr)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{leaf, a.Issuer, a.Root}
}
