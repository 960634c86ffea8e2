package pdf

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertification(t *testing.T) {
	p := newPKI(t)
	_, certified := signBytes(t, p, makePDF(1, true), Options{Certify: true})
	dump := string(qpdfTransform(t, mustRead(t, certified), "--qdf", "--object-streams=disable"))
	for _, want := range []string{"/Perms", "/DocMDP", "/TransformMethod /DocMDP", "/P 2"} {
		if !strings.Contains(dump, want) {
			t.Errorf("certified file lacks %s", want)
		}
	}
	if r := pdfsig(t, nssDB(t, p.root), certified); !strings.Contains(r, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", r)
	}
	// P=2 lets a second (approval) signature in; that one cannot certify.
	s := &Signer{Key: p.key, Chain: p.chain()}
	second := filepath.Join(t.TempDir(), "second.pdf")
	if _, err := s.SignFile(context.Background(), certified, second); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), second, VerifyOptions{Anchors: anchorsOf(p.root.Raw)})
	if err != nil || len(rep.Signatures) != 2 || !rep.Signatures[0].Valid() || !rep.Signatures[1].Valid() {
		t.Fatalf("%v %+v", err, rep)
	}
	s.Opts.Certify = true
	if _, err := s.SignFile(context.Background(), certified, filepath.Join(t.TempDir(), "x.pdf")); !errorsIs(err, ErrNotFirst) {
		t.Fatalf("certify a signed document: %v", err)
	}
}

func TestNoChangesAllowedDocument(t *testing.T) {
	p := newPKI(t)
	_, certified := signBytes(t, p, makePDF(1, false), Options{Certify: true})
	// Turn P 2 into P 1 by hand (same length): no further signature.
	data := mustRead(t, certified)
	i := strings.Index(string(data), "/P 2")
	data[i+3] = '1'
	locked := filepath.Join(t.TempDir(), "locked.pdf")
	os.WriteFile(locked, data, 0o644)
	s := &Signer{Key: p.key, Chain: p.chain()}
	if _, err := s.SignFile(context.Background(), locked, filepath.Join(t.TempDir(), "y.pdf")); !errorsIs(err, ErrCertified) {
		t.Fatalf("signing a P=1 document: %v", err)
	}
}

// PDF/A identification (XMP metadata, output intents) stays, and the stamp's
// fonts are embedded.
func TestPDFAKept(t *testing.T) {
	p := newPKI(t)
	base := string(makePDF(1, false))
	xmp := `<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="2" pdfaid:conformance="B"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
	base = strings.Replace(base, "<< /Length 0 >>\nstream\n\nendstream", "<< /Type /Metadata /Subtype /XML /Length "+itoa(len(xmp))+" >>\nstream\n"+xmp+"\nendstream", 1)
	base = strings.Replace(base, "/Type /Catalog /Pages 2 0 R", "/Type /Catalog /Pages 2 0 R /Metadata 4 0 R /OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB) >>]", 1)
	in := fixXref(t, []byte(base))
	_, out := signBytes(t, p, in, Options{Appearance: &Appearance{Rect: [4]float64{300, 40, 220, 70}}})
	dump := string(qpdfTransform(t, mustRead(t, out), "--qdf", "--object-streams=disable"))
	for _, want := range []string{"pdfaid:part=\"2\"", "/OutputIntents", "/GTS_PDFA1", "/FontFile2", "/Metadata"} {
		if !strings.Contains(dump, want) {
			t.Errorf("signed PDF/A lost %q", want)
		}
	}
}
