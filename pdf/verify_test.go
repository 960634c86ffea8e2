package pdf

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func anchorsOf(certs ...[]byte) [][]byte {
	var out [][]byte
	for _, c := range certs {
		sum := sha256.Sum256(c)
		out = append(out, sum[:])
	}
	return out
}

func TestVerifyBLT(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelLT, TSA: srv.URL + "/tsa", HTTP: hc, Reason: "Vente", Location: "Paris"}}
	out := signWith(t, s, makePDF(2, true))
	rep, err := Verify(context.Background(), out, VerifyOptions{Anchors: anchorsOf(srv.Root.Raw)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 1 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	r := rep.Signatures[0]
	if !r.Valid() || !r.Intact || !r.Trusted || r.TimestampTime == nil || r.Revocation != RevocationGood ||
		r.RevocationSrc != "embedded" || r.Level != "B-LT" || r.ModifiedAfter || r.Reason != "Vente" || r.ClaimedTime == nil {
		t.Fatalf("report %+v", r)
	}
	if r.CoversWholeFile || !strings.Contains(strings.Join(r.Changes, ","), ChangeValidationData) {
		t.Fatalf("the /DSS update is not reported as an allowed change: %+v", r.Changes)
	}
	// Without the anchor, the same signature is intact but not trusted.
	rep, _ = Verify(context.Background(), out, VerifyOptions{})
	if r := rep.Signatures[0]; !r.Intact || r.Trusted || r.Valid() {
		t.Fatalf("untrusted report %+v", r)
	}
}

func TestVerifyTamperedByte(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	data := mustRead(t, out)
	i := strings.Index(string(data), "Page 1 of the deed")
	data[i] = 'X' // one byte inside the signed range
	bad := filepath.Join(t.TempDir(), "tampered.pdf")
	os.WriteFile(bad, data, 0o644)
	rep, err := Verify(context.Background(), bad, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Signatures[0]; r.Intact || r.Valid() || !slices.Contains(r.Problems, ProblemDigestMismatch) {
		t.Fatalf("tampered file: %+v", r)
	}
	if report := pdfsig(t, nssDB(t, p.root), bad); !strings.Contains(report, "Digest Mismatch") {
		t.Fatalf("pdfsig does not see the tampering:\n%s", report)
	}
}

func TestVerifyChangesAfterSigning(t *testing.T) {
	p := newPKI(t)
	_, once := signBytes(t, p, makePDF(1, true), Options{})
	opts := VerifyOptions{Anchors: anchorsOf(p.root.Raw)}

	// A second signature is an allowed change.
	twice := filepath.Join(t.TempDir(), "twice.pdf")
	s := &Signer{Key: p.key, Chain: p.chain()}
	if _, err := s.SignFile(context.Background(), once, twice); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), twice, opts)
	if err != nil || len(rep.Signatures) != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	if r := rep.Signatures[0]; !r.Valid() || r.CoversWholeFile || !contains(r.Changes, ChangeSignature) {
		t.Fatalf("first signature after a second one: %+v", r)
	}
	if r := rep.Signatures[1]; !r.Valid() || !r.CoversWholeFile {
		t.Fatalf("second signature: %+v", r)
	}

	// Rewriting the page's content after signing is not.
	data := mustRead(t, once)
	content := "BT /F1 24 Tf 72 760 Td (Page 1 of ANOTHER deed) Tj ET"
	upd := fmt.Sprintf("8 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(content), content)
	off := len(data)
	xref := off + len(upd)
	prev := strings.LastIndex(string(data), "startxref")
	prevOff := strings.Fields(string(data[prev+len("startxref"):]))[0]
	data = append(data, upd...)
	data = append(data, fmt.Sprintf("xref\n8 1\n%010d 00000 n \ntrailer\n<< /Size 20 /Root 1 0 R /Prev %s >>\nstartxref\n%d\n%%%%EOF\n", off, prevOff, xref)...)
	changed := filepath.Join(t.TempDir(), "changed.pdf")
	os.WriteFile(changed, data, 0o644)
	rep, err = Verify(context.Background(), changed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Signatures[0]; r.Valid() || !r.Intact || !r.ModifiedAfter || !contains(r.Changes, ChangeContent) {
		t.Fatalf("content rewritten after signing: %+v", r)
	}
}

func TestVerifyUnsigned(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plain.pdf")
	os.WriteFile(p, makePDF(1, false), 0o644)
	if _, err := Verify(context.Background(), p, VerifyOptions{}); !errors.Is(err, ErrNoSignature) {
		t.Fatalf("unsigned: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
