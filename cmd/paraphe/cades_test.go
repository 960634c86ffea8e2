package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// docxFile writes a small real Word document (a zip of the parts Word
// reads).
func docxFile(t *testing.T, path, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, p := range []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>` + text + `</w:t></w:r></w:p></w:body></w:document>`},
	} {
		w, _ := z.Create(p.name)
		w.Write([]byte(p.body))
	}
	z.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func opensslCMS(t *testing.T, args ...string) string {
	t.Helper()
	testenv.Require(t, "openssl")
	out, err := exec.Command("openssl", append([]string{"cms", "-verify", "-inform", "DER"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// paraphe sign on files that are not PDFs writes CAdES signatures openssl
// verifies; paraphe verify judges them in the words of PDFs, extracts a
// .p7m's file, finds a .p7s's beside it; every refusal has its code.
func TestSignAnyFileCLI(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	env := append([]string{"PARAPHE_PIN=" + testPIN}, w.env...)
	root := filepath.Join(w.caDir, "root.pem")
	dir := t.TempDir()
	doc := filepath.Join(dir, "contratto.docx")
	content := docxFile(t, doc, "Contratto di fornitura")
	xml := filepath.Join(dir, "fattura.xml")
	os.WriteFile(xml, []byte(`<?xml version="1.0"?><p:FatturaElettronica versione="FPR12"/>`), 0o644)
	scan := filepath.Join(dir, "scan.dat") // a PDF, whatever its name says
	os.WriteFile(scan, minimalPDF(), 0o644)
	pdfFile := filepath.Join(dir, "atto.pdf")
	os.WriteFile(pdfFile, minimalPDF(), 0o644)

	// One batch, one PIN: PDFs get PAdES, the others a .p7m.
	r := runBin(t, "", env, "paraphe", "sign", "--level", "B-LT", "--json", doc, xml, scan, pdfFile)
	var results []struct {
		Input, Output, Level string
		OK                   bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil || r.code != 0 || len(results) != 4 {
		t.Fatalf("sign: %v %+v", err, r)
	}
	for i, want := range []string{doc + ".p7m", xml + ".p7m", filepath.Join(dir, "scan-signed.dat"), filepath.Join(dir, "atto-signed.pdf")} {
		if !results[i].OK || results[i].Output != want || results[i].Level != "B-LT" {
			t.Fatalf("result %d: %+v, want %s", i, results[i], want)
		}
	}
	restored := filepath.Join(dir, "restored.docx")
	opensslCMS(t, "-in", doc+".p7m", "-CAfile", root, "-out", restored)
	if got := mustReadFile(t, restored); !bytes.Equal(got, content) {
		t.Fatal("openssl does not restore the .docx byte for byte")
	}
	if r := runBin(t, "", w.env, "paraphe", "verify", scan[:len(scan)-4]+"-signed.dat"); r.code != 0 || !strings.Contains(r.stdout, "PAdES level B-LT") {
		t.Fatalf("the PDF named .dat: %+v", r)
	}

	// Verify: valid, CAdES B-LT, holding the file; --extract writes it once.
	out := filepath.Join(dir, "out.docx")
	r = runBin(t, "", w.env, "paraphe", "verify", "--extract", out, doc+".p7m")
	if r.code != 0 || !strings.Contains(r.stdout, "Signature 1 (CAdES, holding the file): VALID") || !strings.Contains(r.stdout, "TOTAL-PASSED") ||
		!strings.Contains(r.stdout, "CAdES level B-LT") || !strings.Contains(r.stdout, "Marie Dupont, Notaire") || !strings.Contains(r.stdout, "written to "+out) {
		t.Fatalf("verify .p7m: %+v", r)
	}
	if !bytes.Equal(mustReadFile(t, out), content) {
		t.Fatal("--extract wrote other bytes")
	}
	if r := runBin(t, "", w.env, "paraphe", "verify", "--extract", out, doc+".p7m"); r.code != explain.ExitOutput || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("--extract over an existing file: %+v", r)
	}
	// A byte of the content changed inside the .p7m: altered, exit 30.
	p7m := mustReadFile(t, doc+".p7m")
	i := bytes.Index(p7m, content[100:160])
	p7m[i] ^= 1
	tampered := filepath.Join(dir, "tampered.docx.p7m")
	os.WriteFile(tampered, p7m, 0o644)
	r = runBin(t, "", w.env, "paraphe", "verify", "--json", tampered)
	if r.code != explain.ExitSigInvalid || !strings.Contains(r.stdout, `"sub_indication": "HASH_FAILURE"`) || !strings.Contains(r.stdout, `"cades": "attached"`) {
		t.Fatalf("verify a changed .p7m: %+v", r)
	}

	// Detached: FILE.p7s beside the file; openssl verifies it with the
	// content; verify finds the content by its name, or is given it.
	if r := runBin(t, "", env, "paraphe", "sign", "--detached", "--level", "B-T", doc); r.code != 0 || !strings.Contains(r.stdout, doc+".p7s") {
		t.Fatalf("sign --detached: %+v", r)
	}
	opensslCMS(t, "-in", doc+".p7s", "-content", doc, "-CAfile", root, "-binary", "-out", os.DevNull)
	if r := runBin(t, "", w.env, "paraphe", "verify", doc+".p7s"); r.code != 0 || !strings.Contains(r.stdout, "Signed file: "+doc) ||
		!strings.Contains(r.stdout, "(CAdES, detached): VALID") || !strings.Contains(r.stdout, "CAdES level B-T") {
		t.Fatalf("verify .p7s: %+v", r)
	}
	changed := filepath.Join(dir, "changed.docx")
	docxFile(t, changed, "Contratto di fornitura modificato")
	if r := runBin(t, "", w.env, "paraphe", "verify", doc+".p7s", changed); r.code != explain.ExitSigInvalid || !strings.Contains(r.stdout, "ALTERED") {
		t.Fatalf("verify .p7s against another file: %+v", r)
	}
	// Two files after one another: a .p7s and its content, then a PDF.
	r = runBin(t, "", w.env, "paraphe", "verify", "--json", doc+".p7s", doc, filepath.Join(dir, "atto-signed.pdf"))
	var files []struct {
		File, Content, CAdES string
		Code                 int
	}
	if err := json.Unmarshal([]byte(r.stdout), &files); err != nil || r.code != 0 || len(files) != 2 || files[0].Content != doc || files[1].CAdES != "" {
		t.Fatalf("verify SIG CONTENT PDF: %v %+v", err, r)
	}

	// Refusals, each with its code and nothing written.
	lonely := filepath.Join(dir, "lonely.xml.p7s")
	os.WriteFile(lonely, mustReadFile(t, doc+".p7s"), 0o644)
	for _, c := range []struct {
		name string
		env  []string
		args []string
		code int
		says string
	}{
		{"a .p7s without its file", w.env, []string{"verify", lonely}, explain.ExitNoContent, "is missing"},
		{"neither a PDF nor a signature", w.env, []string{"verify", xml}, explain.ExitNotSignatureFile, "neither a PDF nor a signature"},
		{"--extract of a .p7s", w.env, []string{"verify", "--extract", filepath.Join(dir, "x"), doc + ".p7s"}, explain.ExitUsage, "detached"},
		{"--report of a .p7m", w.env, []string{"verify", "--report", filepath.Join(dir, "r.xml"), doc + ".p7m"}, explain.ExitUsage, "--report"},
		{"--visible on a .docx", env, []string{"sign", "--visible", changed}, explain.ExitUsage, "--visible is for PDFs only"},
		{"--reason on a .docx", env, []string{"sign", "--reason", "Vendita", pdfFile, changed}, explain.ExitUsage, "--reason is for PDFs only"},
		{"B-LTA on a .docx", env, []string{"sign", "--level", "B-LTA", changed}, explain.ExitUsage, "B-LTA is for PDFs"},
		{"--detached with PDFs only", env, []string{"sign", "--detached", pdfFile}, explain.ExitUsage, "--detached is for files that are not PDFs"},
		{"a .p7m already there", env, []string{"sign", doc}, explain.ExitOutput, "already exists"},
	} {
		r := runBin(t, "", c.env, "paraphe", c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.says) {
			t.Errorf("%s: %+v", c.name, r)
		}
	}
	for _, p := range []string{changed + ".p7m", filepath.Join(dir, "x"), filepath.Join(dir, "r.xml")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was written", p)
		}
	}
}

const sealJSON = `{"organization": "ACME S.p.A.", "organization_identifier": "VATIT-01234567890", "country": "IT",
 "email": "firma@acme.example", "questions": [
  {"question": "Ville de naissance ?", "answer": "Montréal"},
  {"question": "Nom de votre premier animal ?", "answer": "Rex"},
  {"question": "Votre école primaire ?", "answer": "Jules  Ferry"}]}`

// An organisation's seal: paraphe-ca enroll --seal issues a certificate
// that names the organisation and no person, with a signature's key
// usages and no qualified claim (this CA issues none); it activates like
// any, and signs a batch of PDFs and other files unattended, the PIN from
// a file; what it signs shows the organisation.
func TestSealCLI(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "openssl", "pdftotext")
	w := newWorld(t)
	if r := runBin(t, `{"organization": "ACME", "country": "IT", "name": "Mario Rossi", "questions": []}`, nil, "paraphe-ca", "enroll", "--seal", "--dir", w.caDir); r.code == 0 || !strings.Contains(r.stderr, "name") {
		t.Fatalf("a seal that names a person: %+v", r)
	}
	r := runBin(t, sealJSON, nil, "paraphe-ca", "enroll", "--seal", "--dir", w.caDir)
	if r.code != 0 || !strings.Contains(r.stdout, "Seal of ACME S.p.A. enrolled") {
		t.Fatalf("enroll --seal: %+v", r)
	}
	ref := testenv.LastLine(r.stdout)
	if r := runBin(t, "", nil, "paraphe-ca", "list", "--dir", w.caDir); !strings.Contains(r.stdout, "ACME S.p.A. (seal)") || !strings.Contains(r.stdout, "VATIT-01234567890") {
		t.Fatalf("list: %+v", r)
	}
	if r := w.activate(t, ref, w.answersFile(t, testenv.Answers...)); r.code != 0 || !strings.Contains(r.stdout, "Seal certificate activated: ACME S.p.A., VATIT-01234567890, Italy") {
		t.Fatalf("activate: %+v", r)
	}
	dir := t.TempDir()
	pem := filepath.Join(dir, "seal.pem")
	if r := runBin(t, "", w.env, "paraphe", "export", "-o", pem); r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	text, err := exec.Command("openssl", "x509", "-in", pem, "-noout", "-text", "-nameopt", "sep_comma_plus_space,sname,utf8").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, text)
	}
	cert := string(text)
	for _, want := range []string{"Subject: C=IT, O=ACME S.p.A., CN=ACME S.p.A., organizationIdentifier=VATIT-01234567890",
		"X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation"} {
		if !strings.Contains(cert, want) {
			t.Errorf("openssl x509 -text does not show %q:\n%s", want, cert)
		}
	}
	for _, not := range []string{"title=", "serialNumber=", "GN=", "SN=", "qcStatements", "1.3.6.1.5.5.7.1.3"} {
		if strings.Contains(cert, not) {
			t.Errorf("openssl x509 -text shows %q:\n%s", not, cert)
		}
	}

	// A batch, unattended: no terminal, no PIN in the environment, the
	// PIN in a file readable by its owner only.
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte(testPIN+"\n"), 0o600)
	var files []string
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, minimalPDF(), 0o644)
		files = append(files, p)
	}
	for _, n := range []string{"fattura-1.xml", "fattura-2.xml"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte(`<?xml version="1.0"?><p:FatturaElettronica versione="FPR12"><n>`+n+`</n></p:FatturaElettronica>`), 0o644)
		files = append(files, p)
	}
	out := filepath.Join(dir, "signed")
	os.Mkdir(out, 0o755)
	r = runBin(t, "", w.env, "paraphe", append([]string{"sign", "--pin-file", pinFile, "--level", "B-T", "--out-dir", out, "--json"}, files...)...)
	if r.code != 0 || strings.Count(r.stdout, `"ok": true`) != len(files) {
		t.Fatalf("batch with --pin-file: %+v", r)
	}
	r = runBin(t, "", w.env, "paraphe", "verify", filepath.Join(out, "a-signed.pdf"), filepath.Join(out, "fattura-2.xml.p7m"))
	if r.code != 0 || strings.Count(r.stdout, "Sealed by ACME S.p.A., VATIT-01234567890, Italy (an organization's electronic seal)") != 2 {
		t.Fatalf("verify the seal's signatures: %+v", r)
	}
	// A visible stamp says the organisation, once, and no person.
	if r := runBin(t, "", w.env, "paraphe", "sign", "--pin-file", pinFile, "--level", "B-B", "--visible", "-o", filepath.Join(dir, "visible.pdf"), files[0]); r.code != 0 {
		t.Fatalf("visible: %+v", r)
	}
	stamp, err := exec.Command("pdftotext", filepath.Join(dir, "visible.pdf"), "-").CombinedOutput()
	if err != nil || !strings.Contains(string(stamp), "Electronic seal of") || strings.Count(string(stamp), "ACME S.p.A.") != 1 || !strings.Contains(string(stamp), "VATIT-01234567890") {
		t.Fatalf("the stamp reads: %v\n%s", err, stamp)
	}
	// A wrong PIN in the file: refused, nothing signed.
	os.WriteFile(pinFile, []byte("Wr0ng-Horse!\n"), 0o600)
	if r := runBin(t, "", w.env, "paraphe", "sign", "--pin-file", pinFile, "--level", "B-B", "-o", filepath.Join(dir, "never.pdf"), files[1]); r.code != explain.ExitWrongPIN {
		t.Fatalf("a wrong PIN in the file: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "never.pdf")); err == nil {
		t.Fatal("signed with a wrong PIN")
	}
}
