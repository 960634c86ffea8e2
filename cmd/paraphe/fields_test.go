package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// formPDF is a one-page PDF whose form has a text field, Client (object 6).
func formPDF() []byte {
	return classicPDF(
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /DA (/Helv 0 Tf 0 g) >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R] >>",
		"<< /Length 44 >>\nstream\nBT /F1 24 Tf 72 760 Td (Acte de vente) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		"<< /FT /Tx /T (Client) /V (Dupont SA) /Rect [50 700 300 720] /Type /Annot /Subtype /Widget /P 3 0 R /F 4 >>",
	)
}

// refill appends an incremental update to a file whose updates are
// classic cross-reference tables, giving the text field Client (object 6)
// a new value: a form changed after the signatures.
func refill(t *testing.T, data []byte, value string) []byte {
	t.Helper()
	starts := regexp.MustCompile(`startxref\s+(\d+)`).FindAllSubmatch(data, -1)
	sizes := regexp.MustCompile(`/Size (\d+)`).FindAllSubmatch(data, -1)
	if len(starts) == 0 || len(sizes) == 0 {
		t.Fatal("no trailer")
	}
	prev, _ := strconv.Atoi(string(starts[len(starts)-1][1]))
	size, _ := strconv.Atoi(string(sizes[len(sizes)-1][1]))
	out := append([]byte{}, data...)
	at := len(out)
	out = fmt.Appendf(out, "6 0 obj\n<< /FT /Tx /T (Client) /V (%s) /Rect [50 700 300 720] /Type /Annot /Subtype /Widget /P 3 0 R /F 4 >>\nendobj\n", value)
	x := len(out)
	out = fmt.Appendf(out, "xref\n6 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", at, size, prev, x)
	return out
}

// signerHome is a second holder, Luc Martin, activated from the same CA
// into a home of their own.
func (w *world) signerHome(t *testing.T, name string) []string {
	t.Helper()
	h := testenv.Holder()
	h.Name, h.MemberNumber, h.Email = name, "69-4321", "luc.martin@example.org"
	holder, _ := json.Marshal(h)
	r := runBin(t, string(holder), nil, "paraphe-ca", "enroll", "--dir", w.caDir)
	if r.code != 0 {
		t.Fatalf("enroll: %+v", r)
	}
	env := []string{"PARAPHE_HOME=" + filepath.Join(t.TempDir(), "home"), "PARAPHE_POLICY=" + w.srv.Policy}
	if r := runBin(t, "", append([]string{"PARAPHE_PIN=" + testPIN}, env...), "paraphe", "activate", "--ref", testenv.LastLine(r.stdout),
		"--answers-file", w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate %s: %+v", name, r)
	}
	return env
}

// rootOf writes the last certificate of the chain paraphe export gives
// (the CA's root) where pdfsig's NSS database can take it.
func rootOf(t *testing.T, env []string) *x509.Certificate {
	t.Helper()
	out := filepath.Join(t.TempDir(), "chain.pem")
	if r := runBin(t, "", env, "paraphe", "export", "-o", out); r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	rest := mustReadFile(t, out)
	var last *x509.Certificate
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		last, _ = x509.ParseCertificate(b.Bytes)
	}
	if last == nil {
		t.Fatal("no certificate exported")
	}
	return last
}

type fieldsListed []struct {
	Name    string `json:"name"`
	Signed  bool   `json:"signed"`
	Widgets []struct {
		Page int        `json:"page"`
		Rect [4]float64 `json:"rect"`
	} `json:"widgets"`
	SignerName string `json:"signer_name"`
	LockedBy   string `json:"locked_by"`
	Locks      *struct {
		Action string `json:"action"`
	} `json:"locks"`
}

// TestSeveralSignersCLI: a form prepared by paraphe fields add with two
// fields, certified (P=2) by one signer into the first and signed by a
// second into the other with --lock all: pdfsig and our verifier accept
// both signatures. A later change to the locked form is a modification
// for our verifier (TOTAL-FAILED / FORMAT_FAILURE, exit 32), while pdfsig,
// which judges no changes, still calls both signatures valid and the last
// one "Not total document signed". Locked fields, taken names and bad
// levels have their own messages and exit codes.
func TestSeveralSignersCLI(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "pdfsig", "certutil")
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	marie := append([]string{"PARAPHE_PIN=" + testPIN}, w.env...)
	luc := append([]string{"PARAPHE_PIN=" + testPIN}, w.signerHome(t, "Luc Martin")...)
	db := testenv.NewNSSDB(t)
	db.Trust(t, rootOf(t, w.env))

	dir := t.TempDir()
	deed := filepath.Join(dir, "deed.pdf")
	os.WriteFile(deed, formPDF(), 0o644)
	form := filepath.Join(dir, "form.pdf")
	r := runBin(t, "", nil, "paraphe", "fields", "add", "--name", "Vendeur", "--rect", "40,60,220,70",
		"--name", "Acheteur", "--page", "1", "--rect", "320,60,220,70", "-o", form, deed)
	if r.code != 0 || !strings.Contains(r.stdout, "Vendeur, Acheteur") {
		t.Fatalf("fields add: %+v", r)
	}
	var listed fieldsListed
	r = runBin(t, "", nil, "paraphe", "fields", "list", "--json", form)
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || r.code != 0 || len(listed) != 2 {
		t.Fatalf("fields list: %v %+v", err, r)
	}
	if l := listed[1]; l.Name != "Acheteur" || l.Signed || len(l.Widgets) != 1 || l.Widgets[0].Page != 1 || l.Widgets[0].Rect != [4]float64{320, 60, 220, 70} {
		t.Fatalf("fields list: %+v", listed)
	}

	certified := filepath.Join(dir, "certified.pdf")
	if r := runBin(t, "", marie, "paraphe", "sign", "--certify", "--mdp", "2", "--field", "Vendeur", "-o", certified, form); r.code != 0 {
		t.Fatalf("certify: %+v", r)
	}
	both := filepath.Join(dir, "both.pdf")
	if r := runBin(t, "", luc, "paraphe", "sign", "--field", "Acheteur", "--lock", "all", "-o", both, certified); r.code != 0 {
		t.Fatalf("second signer: %+v", r)
	}
	r = runBin(t, "", w.env, "paraphe", "verify", "--json", both)
	var rep fileJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || len(rep.Signatures) != 2 {
		t.Fatalf("verify: %v %+v", err, r)
	}
	for i, want := range []string{"Vendeur", "Acheteur"} {
		if s := rep.Signatures[i]; s.Field != want || s.Indication != "TOTAL-PASSED" {
			t.Errorf("signature %s: %s %s %v", s.Field, s.Indication, s.SubIndication, s.Changes)
		}
	}
	if out := db.Pdfsig(t, both); strings.Count(out, "Signature is Valid") != 2 || !strings.Contains(out, "Signature Field Name: Acheteur") {
		t.Fatalf("pdfsig:\n%s", out)
	}
	r = runBin(t, "", nil, "paraphe", "fields", "list", both)
	for _, want := range []string{"Vendeur: signed by Marie Dupont", "Acheteur: signed by Luc Martin", "page 1 at 320,60,220,70",
		"its signature locks every field", "certifies the document: afterwards only form filling and signing", "paraphe verify"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("fields list lacks %q:\n%s", want, r.stdout)
		}
	}

	// The form changed after the lock.
	changed := filepath.Join(dir, "changed.pdf")
	os.WriteFile(changed, refill(t, mustReadFile(t, both), "Martin SARL"), 0o644)
	r = runBin(t, "", w.env, "paraphe", "verify", "--json", changed)
	rep = fileJSON{}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != explain.ExitSigModified || len(rep.Signatures) != 2 {
		t.Fatalf("verify the changed form: %v %+v", err, r)
	}
	if s := rep.Signatures[1]; s.Indication != "TOTAL-FAILED" || s.SubIndication != "FORMAT_FAILURE" || !s.ModifiedAfter ||
		!strings.Contains(strings.Join(s.Changes, " "), "locked_field_changed:Client") {
		t.Errorf("the locking signature: %s %s %v", s.Indication, s.SubIndication, s.Changes)
	}
	if s := rep.Signatures[0]; s.Indication != "TOTAL-PASSED" || !strings.Contains(strings.Join(s.Changes, " "), "form_field_filled:Client") {
		t.Errorf("the certification (P=2 allows form filling): %s %v", s.Indication, s.Changes)
	}
	if r := runBin(t, "", w.env, "paraphe", "verify", changed); !strings.Contains(r.stdout, "field Client changed, which the signature locks") {
		t.Errorf("verify's words:\n%s", r.stdout)
	}
	// pdfsig judges no change: both signatures valid, the last one no
	// longer over the whole file.
	out := db.Pdfsig(t, changed)
	if strings.Count(out, "Signature is Valid") != 2 || !strings.Contains(out, "Not total document signed") {
		t.Errorf("pdfsig on the changed form:\n%s", out)
	}

	// A field locked by an earlier signature: exit 41, no output.
	locked := filepath.Join(dir, "locked.pdf")
	if r := runBin(t, "", marie, "paraphe", "sign", "--level", "B-B", "--field", "Vendeur", "--lock", "Acheteur", "-o", locked, form); r.code != 0 {
		t.Fatalf("sign with a lock: %+v", r)
	}
	r = runBin(t, "", luc, "paraphe", "sign", "--level", "B-B", "--field", "Acheteur", "-o", filepath.Join(dir, "x.pdf"), locked)
	if r.code != explain.ExitFieldLocked || !strings.Contains(r.stderr, "locked by the signature in Vendeur") {
		t.Errorf("signing a locked field: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.pdf")); err == nil {
		t.Error("an output was written")
	}
	if r := runBin(t, "", nil, "paraphe", "fields", "list", locked); !strings.Contains(r.stdout, "Acheteur: empty\n  page 1 at 320,60,220,70\n  locked by the signature in Vendeur") {
		t.Errorf("fields list of the locked form:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		env  []string
		args []string
		code int
		want string
	}{
		{nil, []string{"fields", "add", "--name", "Vendeur", "--rect", "40,200,220,70", "-o", filepath.Join(dir, "y.pdf"), form}, explain.ExitFieldExists, "already has a field by that name"},
		{nil, []string{"fields", "add", "--name", "A.B", "--rect", "40,200,220,70", "-o", filepath.Join(dir, "y.pdf"), form}, explain.ExitUsage, "cannot be empty or hold a period"},
		{nil, []string{"fields", "add", "--name", "Loin", "--page", "7", "--rect", "40,200,220,70", "-o", filepath.Join(dir, "y.pdf"), form}, explain.ExitUsage, "does not have that page"},
		{nil, []string{"fields", "add", "--name", "Seul", "-o", filepath.Join(dir, "y.pdf"), form}, explain.ExitUsage, "needs a --name and a --rect"},
		{nil, []string{"fields", "add", "--name", "Vendeur2", "--rect", "40,200,220,70", "-o", form, form}, explain.ExitOutput, "would replace"},
		{nil, []string{"fields", "list", filepath.Join(dir, "none.pdf")}, explain.ExitUsage, "none.pdf"},
		{marie, []string{"sign", "--mdp", "2", form}, explain.ExitUsage, "use it with --certify"},
		{marie, []string{"sign", "--certify", "--mdp", "4", form}, explain.ExitUsage, "--mdp is 1"},
		{marie, []string{"sign", "--level", "B-B", "--lock", "Nobody", "-o", filepath.Join(dir, "z.pdf"), form}, explain.ExitUsage, "no form field by that name to lock"},
		{marie, []string{"sign", "--level", "B-B", "--field", "Vendeur", "-o", filepath.Join(dir, "z.pdf"), both}, explain.ExitUsage, "no empty signature field by that name"},
	} {
		r := runBin(t, "", tc.env, "paraphe", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: %+v, want %d %q", tc.args, r, tc.code, tc.want)
		}
	}
	for _, p := range []string{"y.pdf", "z.pdf"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s was written", p)
		}
	}
	// A certification that allows no change takes no field either.
	strict := filepath.Join(dir, "strict.pdf")
	if r := runBin(t, "", marie, "paraphe", "sign", "--level", "B-B", "--certify", "--mdp", "1", "-o", strict, deed); r.code != 0 {
		t.Fatalf("certify P=1: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe", "fields", "add", "--name", "Témoin", "--rect", "40,200,220,70", strict); r.code != explain.ExitPDFCertified {
		t.Errorf("fields add to a P=1 document: %+v", r)
	}
	if r := runBin(t, "", []string{"PARAPHE_LANG=fr"}, "paraphe", "fields", "list", form); !strings.Contains(r.stdout, "Acheteur : vide") {
		t.Errorf("in French:\n%s", r.stdout)
	}
}
