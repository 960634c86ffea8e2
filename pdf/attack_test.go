package pdf

// Forgeries found in review: each must be reported, never valid.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

func byteRangeOf(t *testing.T, s []byte) [4]int {
	m := regexp.MustCompile(`/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]`).FindSubmatch(s)
	var br [4]int
	for i := range 4 {
		br[i], _ = strconv.Atoi(string(m[i+1]))
	}
	return br
}

func lastStartXRef(s []byte) int {
	i := bytes.LastIndex(s, []byte("startxref"))
	n, _ := strconv.Atoi(string(bytes.Fields(s[i+len("startxref"):])[0]))
	return n
}

func sigRefOf(t *testing.T, s []byte) (cos.Ref, *cos.File) {
	f, err := cos.Open(bytes.NewReader(s), int64(len(s)))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := readDocument(f)
	form, _ := f.ResolveDict(doc.catalog["AcroForm"])
	fields, _ := f.Resolve(form["Fields"])
	for _, fr := range fields.(cos.Array) {
		fd, _ := f.ResolveDict(fr)
		if fd["FT"] == cos.Name("Sig") {
			return fd["V"].(cos.Ref), f
		}
	}
	t.Fatal("no sig")
	return cos.Ref{}, nil
}

func writeXRef(b *bytes.Buffer, offs map[int]int64, trailer string) {
	nums := []int{}
	for n := range offs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	b.WriteString("xref\n")
	for _, n := range nums {
		fmt.Fprintf(b, "%d 1\n%010d 00000 n \n", n, offs[n])
	}
	b.WriteString("trailer\n" + trailer + "\n")
}

func verifyBytes(t *testing.T, p *testPKI, data []byte) SignatureReport {
	return verifyReport(t, p, data).Signatures[0]
}

func verifyReport(t *testing.T, p *testPKI, data []byte) *Report {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.pdf")
	os.WriteFile(path, data, 0o644)
	rep, err := Verify(context.Background(), path, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Signature wrapping: the sig dict used by the verifier is replaced (through
// an xref written in the unsigned region) by one whose ByteRange points at a
// copy of the signed tail placed at the end of the file.
func TestAttackWrapping(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	br := byteRangeOf(t, S)
	N := lastStartXRef(S)
	sig, f := sigRefOf(t, S)
	sd, _ := f.ResolveDict(sig)
	offs := map[int]int64{}
	for n, e := range f.Entries() {
		if e.Kind == 'n' {
			offs[n] = e.Offset
		}
	}

	var b bytes.Buffer
	b.Write(S[:N]) // everything up to the signing update's xref stays
	// new objects
	content := "BT /F1 24 Tf 72 760 Td (FORGED CONTENT) Tj ET"
	offs[8] = int64(b.Len())
	fmt.Fprintf(&b, "8 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(content), content)
	// the new sig dict, its ByteRange computed below (fixed width)
	sigAt := b.Len()
	offs[sig.Num] = int64(sigAt)
	contents := cos.Append(nil, cos.HexString(sd["Contents"].(cos.String)))
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 %010d %010d %010d] /Contents %s >>\nendobj\n",
		sig.Num, br[1], 0, br[3], contents)
	xrefAt := b.Len()
	writeXRef(&b, offs, fmt.Sprintf("<< /Size %d /Root 1 0 R >>", f.MaxNum+1))
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xrefAt)
	// the signing xref's offset N must hold an xref: put one there
	// (simplest: move our xref to N by rebuilding: we instead pad and make
	// the last startxref (from the copied tail) = N point at "xref").
	_ = xrefAt
	data := b.Bytes()
	// Put the xref at N: splice: S[:N] + xref + objects... rebuild properly.
	var c bytes.Buffer
	c.Write(S[:N])
	// objects after xref: compute offsets assuming xref length fixed by a first pass
	build := func(objStart int) ([]byte, []byte) {
		var objs bytes.Buffer
		o := map[int]int64{}
		for k, v := range offs {
			o[k] = v
		}
		o[8] = int64(objStart + objs.Len())
		fmt.Fprintf(&objs, "8 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(content), content)
		o[sig.Num] = int64(objStart + objs.Len())
		cPrime := 0 // fill later
		_ = cPrime
		var x bytes.Buffer
		writeXRef(&x, o, fmt.Sprintf("<< /Size %d /Root 1 0 R >>", f.MaxNum+1))
		return x.Bytes(), objs.Bytes()
	}
	x1, _ := build(0)
	objStart := N + len(x1)
	x, objs := build(objStart)
	c.Write(x)
	c.Write(objs)
	sigObjAt := c.Len()
	// the sig dict with the final c'
	sigTmpl := "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 %010d %010d %010d] /Contents %s >>\nendobj\n"
	l := len(fmt.Sprintf(sigTmpl, sig.Num, 0, 0, 0, contents))
	cPrime := sigObjAt + l + 1 // + '>'
	fmt.Fprintf(&c, sigTmpl, sig.Num, br[1], cPrime, br[3], contents)
	c.WriteByte('>')
	if c.Len() != cPrime {
		t.Fatal("layout")
	}
	c.Write(S[br[2] : br[2]+br[3]])
	_ = data
	forged := c.Bytes()
	if lastStartXRef(forged) != N || !bytes.HasPrefix(forged[N:], []byte("xref")) {
		t.Fatal("startxref")
	}
	r := verifyBytes(t, p, forged)
	t.Logf("valid=%v intact=%v covers=%v modified=%v changes=%v problems=%v", r.Valid(), r.Intact, r.CoversWholeFile, r.ModifiedAfter, r.Changes, r.Problems)
	if r.Valid() {
		t.Errorf("FORGED document (content 'FORGED CONTENT') reported valid")
	}
}

// appendUpdate appends an incremental update with the given objects.
func appendUpdate(s []byte, objs map[int]string, trailer string) []byte {
	var b bytes.Buffer
	b.Write(s)
	offs := map[int]int64{}
	for n, body := range objs {
		offs[n] = int64(b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
	}
	xref := b.Len()
	writeXRef(&b, offs, trailer)
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

func TestAttackLaterUpdates(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	_, f := sigRefOf(t, S)
	size := f.MaxNum + 1
	prev := lastStartXRef(S)
	tr := func(extra string) string {
		return fmt.Sprintf("<< /Size %d /Root 1 0 R /Prev %d %s>>", size+5, prev, extra)
	}
	content := "BT /F1 24 Tf 72 760 Td (FORGED CONTENT) Tj ET"
	stream := func(extra string) string {
		return fmt.Sprintf("<< /Length %d %s>>\nstream\n%s\nendstream", len(content), extra, content)
	}
	n := size
	cases := map[string][]byte{
		"content stream typed /XRef":   appendUpdate(S, map[int]string{8: stream("/Type /XRef ")}, tr("")),
		"content stream typed /ObjStm": appendUpdate(S, map[int]string{8: stream("/Type /ObjStm ")}, tr("")),
		"content stream with /FT /Sig": appendUpdate(S, map[int]string{8: stream("/FT /Sig ")}, tr("")),
		"content stream with /Parent":  appendUpdate(S, map[int]string{8: stream("/Parent 2 0 R ")}, tr("")),
		"existing Font changed":        appendUpdate(S, map[int]string{5: "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>"}, tr("")),
		"new untyped catalog via trailer /Root": appendUpdate(S, map[int]string{
			n: fmt.Sprintf("<< /Pages %d 0 R /AcroForm %s >>", n+1, cos.Append(nil, mustCat(f)["AcroForm"])), n + 1: fmt.Sprintf("<< /Kids [%d 0 R] /Count 1 >>", n+2),
			n + 2: fmt.Sprintf("<< /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /F1 5 0 R >> >> >>", n+1, n+3),
			n + 3: stream("")}, fmt.Sprintf("<< /Size %d /Root %d 0 R /Prev %d >>", n+5, n, prev)),
		"content stream deleted (free)": func() []byte {
			var b bytes.Buffer
			b.Write(S)
			x := b.Len()
			fmt.Fprintf(&b, "xref\n8 1\n0000000000 00001 f \ntrailer\n%s\nstartxref\n%d\n%%%%EOF\n", tr(""), x)
			return b.Bytes()
		}(),
	}
	// A new annotation drawn over the page: page /Annots changes, the
	// annotation and its appearance are new.
	pg, _ := f.ResolveDict(cos.Ref{Num: 7})
	np := copyDict(pg)
	annots, _ := f.Resolve(np["Annots"])
	np["Annots"] = append(append(cos.Array{}, annots.(cos.Array)...), cos.Ref{Num: n})
	ap := "0.9 0.1 0.1 rg 0 0 400 60 re f BT /F1 24 Tf 10 20 Td (PAY 1000000 EUR) Tj ET"
	cases["new FreeText annotation"] = appendUpdate(S, map[int]string{
		7:     string(cos.Append(nil, np)),
		n:     fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [60 740 460 800] /AP << /N %d 0 R >> /F 4 >>", n+1),
		n + 1: fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 400 60] /Resources << /Font << /F1 5 0 R >> >> /Length %d >>\nstream\n%s\nendstream", len(ap), ap),
	}, tr(""))
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), regexp.MustCompile(`[^a-zA-Z]+`).ReplaceAllString(name, "_")+".pdf")
			r := verifyBytes(t, p, data)
			t.Logf("%s: valid=%v modified=%v changes=%v problems=%v", path, r.Valid(), r.ModifiedAfter, r.Changes, r.Problems)
			if r.Valid() {
				t.Errorf("modified document reported valid")
			}
		})
	}
}

// The gap is not checked to be hex only: keys injected into the sig dict.
func TestAttackGapInjection(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	br := byteRangeOf(t, S)
	gap := S[br[1]:br[2]]
	der := trimDER(mustHex(gap[1 : len(gap)-1]))
	inj := []byte("<" + fmt.Sprintf("%X", der) + "> /Reason (I owe Mallory 1000000 EUR) /X <")
	forged := append([]byte{}, S...)
	copy(forged[br[1]:], inj)
	for i := br[1] + len(inj); i < br[2]-1; i++ {
		forged[i] = '0'
	}
	r := verifyBytes(t, p, forged)
	t.Logf("valid=%v reason=%q", r.Valid(), r.Reason)
	if r.Valid() && r.Reason != "" {
		t.Errorf("unsigned /Reason %q reported on a valid signature", r.Reason)
	}
}

func mustHex(h []byte) []byte {
	out := make([]byte, len(h)/2)
	for i := range out {
		v, _ := strconv.ParseUint(string(h[2*i:2*i+2]), 16, 8)
		out[i] = byte(v)
	}
	return out
}

func mustCat(f *cos.File) cos.Dict { d, _ := readDocument(f); return d.catalog }

// Object streams: replacing an object stream rewrites the objects inside it,
// whose (stream number, index) stays the same.
func TestAttackObjStm(t *testing.T) {
	p := newPKI(t)
	in := qpdfTransform(t, makePDF(2, false), "--object-streams=generate")
	_, out := signBytes(t, p, in, Options{})
	S := mustRead(t, out)
	f, err := cos.Open(bytes.NewReader(S), int64(len(S)))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := readDocument(f)
	pref, pd, _ := doc.page(2)
	kind, stm, _ := f.Where(pref.Num)
	if kind != 'c' {
		t.Fatalf("page 2 not compressed: %c", kind)
	}
	so, _ := f.Get(cos.Ref{Num: int(stm)})
	s := so.(*cos.Stream)
	data, _ := f.StreamData(s)
	nObj, _ := cos.Int(s.Dict["N"])
	first, _ := cos.Int(s.Dict["First"])
	hdr := bytes.Fields(data[:first])
	var nums []int
	for i := 0; i < int(nObj); i++ {
		n, _ := strconv.Atoi(string(hdr[2*i]))
		nums = append(nums, n)
	}
	newContent := f.MaxNum + 1
	var body bytes.Buffer
	var head bytes.Buffer
	for _, n := range nums {
		o, _ := f.Get(cos.Ref{Num: n})
		if n == pref.Num {
			np := copyDict(pd)
			np["Contents"] = cos.Ref{Num: newContent}
			o = np
		}
		fmt.Fprintf(&head, "%d %d ", n, body.Len())
		body.Write(cos.Append(nil, o))
		body.WriteByte('\n')
	}
	raw := append(head.Bytes(), body.Bytes()...)
	content := "BT /F1 24 Tf 72 760 Td (FORGED PAGE 2) Tj ET"
	objs := map[int]string{
		int(stm):   fmt.Sprintf("<< /Type /ObjStm /N %d /First %d /Length %d >>\nstream\n%s\nendstream", len(nums), head.Len(), len(raw), raw),
		newContent: fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	}
	// the signed file has an xref stream: append a classic-table update
	// (hybrid-less, readers accept a table after a stream section)
	forged := appendUpdate(S, objs, fmt.Sprintf("<< /Size %d /Root %s /Prev %d >>", newContent+1, cos.Append(nil, f.Trailer["Root"]), lastStartXRef(S)))
	r := verifyBytes(t, p, forged)
	t.Logf("valid=%v modified=%v changes=%v problems=%v", r.Valid(), r.ModifiedAfter, r.Changes, r.Problems)
	if r.Valid() {
		t.Errorf("page 2 replaced, reported valid")
	}
}

func sigRefOfNoSig(t *testing.T, s []byte) (*cos.File, *document) {
	f, err := cos.Open(bytes.NewReader(s), int64(len(s)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := readDocument(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, d
}

func cosAppend(o cos.Object) []byte { return cos.Append(nil, o) }

func TestAttackSigDictRewritten(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{Reason: "Lu et approuvé"})
	S := mustRead(t, out)
	sig, f := sigRefOf(t, S)
	sd, _ := f.ResolveDict(sig)
	nd := copyDict(sd)
	nd["Reason"] = cos.String("Approved: pay Mallory")
	nd["M"] = cos.String("D:20200101000000+00'00'")
	nd["Contents"] = cos.HexString(sd["Contents"].(cos.String))
	forged := appendUpdate(S, map[int]string{sig.Num: string(cos.Append(nil, nd))}, fmt.Sprintf("<< /Size %d /Root 1 0 R /Prev %d >>", f.MaxNum+1, lastStartXRef(S)))
	r := verifyBytes(t, p, forged)
	t.Logf("valid=%v reason=%q claimed=%v changes=%v", r.Valid(), r.Reason, r.ClaimedTime, r.Changes)
}

// TestAttackMetadataAndDSSDisguise: changes to the document information
// and to the /DSS are allowed after signing; a document whose /Info or
// /DSS points at its page content (written so before it was signed) must
// not let that content change freely afterwards.
func TestAttackMetadataAndDSSDisguise(t *testing.T) {
	p := newPKI(t)
	content := "BT /F1 24 Tf 72 760 Td (FORGED CONTENT) Tj ET"
	forged := fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content)
	for name, prep := range map[string]func([]byte) []byte{
		"/Info is the content stream": func(s []byte) []byte {
			return bytes.Replace(s, []byte("/Info 3 0 R"), []byte("/Info 8 0 R"), 1)
		},
		"/DSS holds the content stream": func(s []byte) []byte {
			// Same lengths, so the cross-reference table stays right.
			s = bytes.Replace(s, []byte("/Type /Catalog"), []byte("/DSS 4 0 R    "), 1)
			empty := "<< /Length 0 >>\nstream\n\nendstream"
			return bytes.Replace(s, []byte(empty), []byte(fmt.Sprintf("%-*s", len(empty), "<< /Certs [8 0 R] >>")), 1)
		},
		"/Info is the page": func(s []byte) []byte {
			return bytes.Replace(s, []byte("/Info 3 0 R"), []byte("/Info 7 0 R"), 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, out := signBytes(t, p, prep(makePDF(1, false)), Options{})
			S := mustRead(t, out)
			_, f := sigRefOf(t, S)
			tr := fmt.Sprintf("<< /Size %d /Root 1 0 R /Prev %d >>", f.MaxNum+1, lastStartXRef(S))
			objs := map[int]string{8: forged}
			if name == "/Info is the page" {
				objs = map[int]string{7: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"}
			}
			r := verifyBytes(t, p, appendUpdate(S, objs, tr))
			if r.Valid() || !r.ModifiedAfter {
				t.Fatalf("content changed under a disguise reported valid: %v %v", r.Changes, r.Problems)
			}
		})
	}
	// The genuine case: /ModDate updated in the information dictionary.
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	_, f := sigRefOf(t, S)
	tr := fmt.Sprintf("<< /Size %d /Root 1 0 R /Info 3 0 R /Prev %d >>", f.MaxNum+1, lastStartXRef(S))
	r := verifyBytes(t, p, appendUpdate(S, map[int]string{3: "<< /Producer (Paraphe tests) /ModDate (D:20261201100000Z) >>"}, tr))
	if !r.Valid() || !slices.Contains(r.Changes, ChangeMetadata) {
		t.Fatalf("a metadata update after signing: valid=%v changes %v", r.Valid(), r.Changes)
	}
}

// TestCutShortAfterSigning: an update after the signature that was cut
// short (no end-of-file marker, a cross-reference that no longer reads)
// cannot be judged: the signature stays intact, the document is reported
// changed.
func TestCutShortAfterSigning(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	_, f := sigRefOf(t, S)
	tr := fmt.Sprintf("<< /Size %d /Root 1 0 R /Prev %d >>", f.MaxNum+1, lastStartXRef(S))
	full := appendUpdate(S, map[int]string{3: "<< /Producer (later) >>"}, tr)
	cut := full[:len(full)-(len(full)-len(S))/2]
	r := verifyBytes(t, p, cut)
	if !r.Intact || r.Valid() || !r.ModifiedAfter || !slices.Contains(r.Changes, ChangeUnreadable) {
		t.Fatalf("cut-short update: intact=%v %s changes %v problems %v", r.Intact, r.Indication, r.Changes, r.Problems)
	}
}

// TestAttackLookAlikeSignerCertificate: the CMS certificate set is not
// signed; a certificate added with the signer's issuer and serial but
// another key must not make an intact signature look broken.
func TestAttackLookAlikeSignerCertificate(t *testing.T) {
	p := newPKI(t)
	_, out := signBytes(t, p, makePDF(1, false), Options{})
	S := mustRead(t, out)
	br := byteRangeOf(t, S)
	hexed := S[br[1]+1 : br[2]-1]
	der := trimDER(mustHex(hexed))
	// A look-alike: same issuer name and serial as the signer's, another key.
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fakeIssuer := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: p.issuing.Subject}
	tmpl := &x509.Certificate{SerialNumber: p.leaf.SerialNumber, Subject: p.leaf.Subject,
		NotBefore: p.leaf.NotBefore, NotAfter: p.leaf.NotAfter}
	fake, err := x509.CreateCertificate(rand.Reader, tmpl, fakeIssuer, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	// The root leaves the set to make room (the test trusts it directly).
	tampered := prependCert(t, der, fake, p.root.Raw)
	enc := []byte(strings.ToUpper(hex.EncodeToString(tampered)))
	if len(enc) > len(hexed) {
		t.Fatal("no room in the placeholder")
	}
	copy(hexed, enc)
	for i := len(enc); i < len(hexed); i++ {
		hexed[i] = '0'
	}
	path := filepath.Join(t.TempDir(), "lookalike.pdf")
	os.WriteFile(path, S, 0o644)
	rep, err := Verify(context.Background(), path, VerifyOptions{Trust: []Anchor{{Cert: p.root, Source: SourcePolicy}}})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Signatures[0]
	if !r.Valid() || !r.Certificate.Equal(p.leaf) {
		t.Fatalf("a look-alike certificate in the set: %s/%s %v", r.Indication, r.SubIndication, r.Problems)
	}
}

// prependCert puts cert first in a SignedData's certificate set, and drops
// the certificate drop from it.
func prependCert(t *testing.T, contentInfo, cert, drop []byte) []byte {
	t.Helper()
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(contentInfo, &ci); err != nil {
		t.Fatal(err)
	}
	var sd asn1.RawValue
	asn1.Unmarshal(ci.Content.Bytes, &sd)
	var body []byte
	for rest := sd.Bytes; len(rest) > 0; {
		var v asn1.RawValue
		rest, _ = asn1.Unmarshal(rest, &v)
		if v.Class == asn1.ClassContextSpecific && v.Tag == 0 {
			set := append([]byte{}, cert...)
			for certs := v.Bytes; len(certs) > 0; {
				var c asn1.RawValue
				certs, _ = asn1.Unmarshal(certs, &c)
				if !bytes.Equal(c.FullBytes, drop) {
					set = append(set, c.FullBytes...)
				}
			}
			b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: set})
			body = append(body, b...)
			continue
		}
		body = append(body, v.FullBytes...)
	}
	sdb, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	oid, _ := asn1.Marshal(ci.Type)
	wrap, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdb})
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(oid, wrap...)})
	return out
}
