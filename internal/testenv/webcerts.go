package testenv

import (
	"context"
	"crypto/x509"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/pkcs"
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

// Activate is what activation leaves on a computer, done in process: a
// key generated in store behind pin, enrolled in a for holder h (whose
// questions are answered with their own answers), its chain (leaf, issuing
// CA, root) kept beside it. It returns the key's entry.
func Activate(t testing.TB, a *ca.Authority, store pkcs.Store, h ca.Holder, pin []byte) pkcs.Entry {
	t.Helper()
	key, err := store.Generate(pkcs.ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
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
	chain := []*x509.Certificate{leaf, a.Issuer, a.Root}
	if err := store.SetChain(key.ID, chain); err != nil {
		t.Fatal(err)
	}
	return pkcs.Entry{ID: key.ID, Store: store.Name(), Chain: chain}
}
