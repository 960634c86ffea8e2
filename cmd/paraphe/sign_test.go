package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// minimalPDF is a one-page PDF with a classic cross-reference table.
func minimalPDF() []byte {
	return classicPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 44 >>\nstream\nBT /F1 24 Tf 72 760 Td (Acte de vente) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	)
}

// classicPDF writes objects 1, 2… with a classic cross-reference table;
// object 1 is the catalog.
func classicPDF(objs ...string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.7\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		b.WriteString(strings.Join([]string{itoa(i + 1), " 0 obj\n", o, "\nendobj\n"}, ""))
	}
	x := b.Len()
	b.WriteString("xref\n0 " + itoa(len(objs)+1) + "\n0000000000 65535 f \n")
	for _, o := range offs {
		s := itoa(o)
		b.WriteString(strings.Repeat("0", 10-len(s)) + s + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size " + itoa(len(objs)+1) + " /Root 1 0 R >>\nstartxref\n" + itoa(x) + "\n%%EOF\n")
	return []byte(b.String())
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSignAndVerifyCLI(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, minimalPDF(), 0o644)
		files = append(files, p)
	}
	broken := filepath.Join(dir, "broken.pdf")
	os.WriteFile(broken, []byte("%PDF-1.7\nnothing else"), 0o644)
	env := append([]string{"PARAPHE_PIN=" + testPIN}, w.env...)

	// A batch with a bad file: the others are signed, the bad one reported.
	r := runBin(t, "", env, "paraphe", append([]string{"sign", "--level", "B-LT", "--reason", "Vente", "--json"}, append(files, broken)...)...)
	var results []struct {
		Input, Output, Error, Level string
		OK                          bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil || r.code != explain.ExitSomeFailed || len(results) != 4 {
		t.Fatalf("batch: %v %+v", err, r)
	}
	for _, res := range results[:3] {
		if !res.OK || res.Level != "B-LT" {
			t.Fatalf("batch result %+v", res)
		}
	}
	if results[3].OK || !strings.Contains(results[3].Error, "damaged") {
		t.Fatalf("bad file result %+v", results[3])
	}

	// Verify: valid, B-LT, exit 0.
	r = runBin(t, "", w.env, "paraphe", "verify", files[0][:len(files[0])-4]+"-signed.pdf")
	if r.code != 0 || !strings.Contains(r.stdout, "VALID") || !strings.Contains(r.stdout, "Marie Dupont, Notaire, member no. 75-1234") ||
		!strings.Contains(r.stdout, "PAdES level B-LT") || !strings.Contains(r.stdout, "not revoked") {
		t.Fatalf("verify: %+v", r)
	}
	// One byte changed: broken, exit 30; pdfsig agrees.
	signed := mustReadFile(t, strings.TrimSuffix(files[1], ".pdf")+"-signed.pdf")
	i := strings.Index(string(signed), "Acte de vente")
	signed[i] = 'a'
	tampered := filepath.Join(dir, "tampered.pdf")
	os.WriteFile(tampered, signed, 0o644)
	r = runBin(t, "", w.env, "paraphe", "verify", tampered)
	if r.code != explain.ExitSigInvalid || !strings.Contains(r.stdout, "ALTERED") {
		t.Fatalf("verify tampered: %+v", r)
	}
	if out, _ := exec.Command("pdfsig", tampered).CombinedOutput(); !strings.Contains(string(out), "Digest Mismatch") {
		t.Fatalf("pdfsig on the tampered file:\n%s", out)
	}
	// Untrusted without the policy's anchors: exit 31.
	r = runBin(t, "", []string{"PARAPHE_POLICY=/nonexistent", "PARAPHE_HOME=" + w.home}, "paraphe", "verify", "--json", strings.TrimSuffix(files[2], ".pdf")+"-signed.pdf")
	if r.code != explain.ExitSigUntrusted || !strings.Contains(r.stdout, `"trusted": false`) {
		t.Fatalf("verify untrusted: %+v", r)
	}
	// Unsigned: exit 33; encrypted: exit 24.
	if r := runBin(t, "", w.env, "paraphe", "verify", files[0]); r.code != explain.ExitNotSigned {
		t.Fatalf("verify unsigned: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "sign", "--level", "B-B", files[0]); r.code != explain.ExitOutput || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("sign over an existing output: %+v", r)
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// With the CA down, a time-stamped signature cannot learn where to ask for
// the time-stamp: said so, with the way to sign without one; the file is
// left alone and no output is written.
func TestSignWithoutTSA(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	in := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(in, minimalPDF(), 0o644)
	w.srv.Stop()
	r := runBin(t, "", append([]string{"PARAPHE_PIN=" + testPIN}, w.env...), "paraphe", "sign", in)
	if r.code != explain.ExitUnreachable || !strings.Contains(r.stderr, "time-stamping address") || !strings.Contains(r.stderr, "--level B-B") {
		t.Fatalf("%+v", r)
	}
	if _, err := os.Stat(strings.TrimSuffix(in, ".pdf") + "-signed.pdf"); err == nil {
		t.Fatal("an output was written")
	}
}
