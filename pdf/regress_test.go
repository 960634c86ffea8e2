package pdf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// Defects found in review, each kept from coming back.

// Two pages sharing one indirect /Annots array: the widget goes on its page only.
func TestSharedAnnotsArray(t *testing.T) {
	p := newPKI(t)
	s := string(makePDF(2, false))
	s = strings.Replace(s, "<< /Length 0 >>\nstream\n\nendstream", "[]", 1)
	s = strings.ReplaceAll(s, "/Resources << /Font << /F1 5 0 R >> >> >>", "/Resources << /Font << /F1 5 0 R >> >> /Annots 4 0 R >>")
	_, out := signBytes(t, p, fixXref(t, []byte(s)), Options{Appearance: &Appearance{Page: 1}})
	data := mustRead(t, out)
	f, err := cos.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := readDocument(f)
	count := func(n int) int {
		_, page, err := doc.page(n)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := f.Resolve(page["Annots"])
		arr, _ := a.(cos.Array)
		return len(arr)
	}
	if count(1) != 1 || count(2) != 0 {
		t.Fatalf("widgets on page 1: %d, on page 2: %d", count(1), count(2))
	}
}

// Objects with a generation other than 0 keep it when rewritten.
func TestNonZeroGenerations(t *testing.T) {
	p := newPKI(t)
	in := string(makePDF(1, false))
	in = strings.Replace(in, "1 0 obj\n<< /Type /Catalog", "1 3 obj\n<< /Type /Catalog", 1)
	in = strings.Replace(in, "/Root 1 0 R", "/Root 1 3 R", 1)
	lines := strings.Split(in, "\n")
	for i, l := range lines {
		if l == "xref" {
			lines[i+3] = strings.Replace(lines[i+3], " 00000 n", " 00003 n", 1)
		}
	}
	_, out := signBytes(t, p, []byte(strings.Join(lines, "\n")), Options{})
	if code, text := qpdfCheck(t, out); code != 0 {
		t.Fatalf("qpdf --check %d:\n%s", code, text)
	}
	if r := pdfsig(t, nssDB(t, p.root), out); !strings.Contains(r, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", r)
	}
}

// User text cannot be mistaken for the placeholders.
func TestTextLikePlaceholders(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{Contact: "see /Contents <here> and /ByteRange [0 0000000000 0000000000 0000000000]"})
	rep, err := Verify(context.Background(), out, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if err != nil || !rep.Signatures[0].Valid() {
		t.Fatalf("%v %+v", err, rep)
	}
}

// A second B-LT signature extends the /DSS: the first stays B-LT.
func TestSecondBLTKeepsFirstDSS(t *testing.T) {
	srv, key, chain, hc := caPKI(t)
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelLT, TSA: srv.URL + "/tsa", HTTP: hc}}
	once := signWith(t, s, makePDF(1, false))
	k2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s2 := &Signer{Key: k2, Chain: []*x509.Certificate{srv.Issue(t, k2), srv.Issuer, srv.Root}, Opts: s.Opts}
	twice := filepath.Join(filepath.Dir(once), "twice.pdf")
	if _, err := s2.SignFile(context.Background(), once, twice); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), twice, VerifyOptions{Anchors: anchorsOf(srv.Root.Raw)})
	if err != nil || len(rep.Signatures) != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	for _, r := range rep.Signatures {
		if r.Level != "B-LT" || r.Revocation != RevocationGood || !r.Valid() {
			t.Fatalf("%s: %+v", r.Field, r)
		}
	}
}

// An object stream that contains itself is refused, not followed until the
// stack overflows (which no recover can catch).
func TestObjStmContainingItself(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	at := b.Len()
	rows := []byte{0, 0, 0, 2, 1, 0} // object 0 free; object 1 in object stream 1
	fmt.Fprintf(&b, "9 0 obj\n<< /Type /XRef /W [1 1 1] /Index [0 2] /Size 10 /Root 1 0 R /Length %d >>\nstream\n", len(rows))
	b.Write(rows)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", at)
	data := b.Bytes()
	f, err := cos.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return
	}
	if _, err := f.Get(cos.Ref{Num: 1}); err == nil {
		t.Fatal("an object stream inside itself was read")
	}
}

// A file whose cross-reference is damaged and whose objects sit in object
// streams: the rebuild finds them, the signed copy keeps them.
func TestRebuiltWithObjectStreams(t *testing.T) {
	p := newPKI(t)
	in := qpdfTransform(t, makePDF(3, true), "--object-streams=generate")
	f, d := sigRefOfNoSig(t, in)
	objs := map[int]string{d.catalogRef.Num: string(cosAppend(d.catalog))}
	pr := d.catalog["Pages"].(cos.Ref)
	pd, _ := f.ResolveDict(pr)
	objs[pr.Num] = string(cosAppend(pd))
	for _, k := range pd["Kids"].(cos.Array) {
		kd, _ := f.ResolveDict(k)
		objs[k.(cos.Ref).Num] = string(cosAppend(kd))
	}
	upd := appendUpdate(in, objs, "<< /Size 100 /Root "+string(cosAppend(d.catalogRef))+" >>")
	i := bytes.LastIndex(upd, []byte("startxref"))
	bad := append(append([]byte{}, upd[:i]...), []byte("startxref\n999999\n%%EOF\n")...)
	if _, _, err := signFile(t, p, bad, Options{}); !errorsIs(err, ErrNeedsRepair) {
		t.Fatalf("a rebuilt file signed without Repair: %v", err)
	}
	_, out := signBytes(t, p, bad, Options{Repair: true})
	if code, text := qpdfCheck(t, out); code != 0 {
		t.Fatalf("qpdf --check %d:\n%s", code, text)
	}
	dump := qpdfTransform(t, mustRead(t, out), "--qdf", "--object-streams=disable")
	for _, want := range []string{"/BaseFont /Helvetica", "/T (Client)"} {
		if !bytes.Contains(dump, []byte(want)) {
			t.Errorf("the signed copy lost %q", want)
		}
	}
	if r := pdfsig(t, nssDB(t, p.root), out); !strings.Contains(r, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", r)
	}
}
