package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// protectPDF writes name in dir: the one-page deed protected by qpdf with
// args (global options, then --encrypt USER OWNER BITS …).
func protectPDF(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	plain, out := filepath.Join(dir, "plain-"+name), filepath.Join(dir, name)
	os.WriteFile(plain, minimalPDF(), 0o644)
	if b, err := exec.Command("qpdf", append(args, "--", plain, out)...).CombinedOutput(); err != nil {
		t.Fatalf("qpdf %v: %v\n%s", args, err, b)
	}
	return out
}

// paraphe sign on documents protected by the standard security handler,
// as qpdf makes them (RC4-128, AES-128, AES-256): signed with the user
// password from --password-file or PARAPHE_PDF_PASSWORD, the copy is
// clean for qpdf (given the password), valid for pdfsig (-upw) and for
// paraphe verify (TOTAL-PASSED for the CA's root). A wrong password, no
// password, permissions that forbid signing: each its message and exit
// code, and no output. The inputs never change.
func TestSignEncryptedCLI(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "qpdf", "pdfsig", "certutil")
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	env := append([]string{"PARAPHE_PIN=" + testPIN}, w.env...)
	db := testenv.NewNSSDB(t)
	block, _ := pem.Decode(mustReadFile(t, filepath.Join(w.caDir, "root.pem")))
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	db.Trust(t, root)
	pdfsig := func(file string, args ...string) string {
		out, _ := exec.Command("pdfsig", append(append([]string{"-nssdir", "sql:" + db.Dir, "-nss-pwd", db.Password}, args...), file)...).CombinedOutput()
		return string(out)
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password.txt")
	os.WriteFile(pwFile, []byte("Utilisateur 1\n"), 0o600)
	ownerFile := filepath.Join(dir, "owner.txt")
	os.WriteFile(ownerFile, []byte("Propriétaire\n"), 0o600)
	sums := map[string][]byte{}
	keep := func(p string) string { sums[p] = mustReadFile(t, p); return p }

	// verified checks a signed copy as the others and paraphe verify see it.
	verified := func(t *testing.T, out string, user string) {
		t.Helper()
		if b, err := exec.Command("qpdf", "--check", "--password="+user, out).CombinedOutput(); err != nil || !strings.Contains(string(b), "No syntax or stream encoding errors found") {
			t.Errorf("qpdf --check: %v\n%s", err, b)
		}
		if b, err := exec.Command("qpdf", "--requires-password", out).CombinedOutput(); (user != "") != (err == nil) {
			t.Errorf("qpdf --requires-password: %v %s", err, b)
		}
		var args []string
		if user != "" {
			args = []string{"-upw", user}
		}
		if r := pdfsig(out, args...); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Certificate is Trusted") {
			t.Errorf("pdfsig:\n%s", r)
		}
		r := runBin(t, "", append([]string{"PARAPHE_PDF_PASSWORD=" + user}, w.env...), "paraphe", "verify", "--json", out)
		var v struct {
			Signatures []struct{ Indication string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 || len(v.Signatures) != 1 || v.Signatures[0].Indication != "TOTAL-PASSED" {
			t.Errorf("paraphe verify: %v %+v", err, r)
		}
	}

	for _, tc := range []struct {
		name  string
		qpdf  []string
		how   []string // how the password is given: flag or environment
		level string
	}{
		{"RC4-128", []string{"--allow-weak-crypto", "--encrypt", "Utilisateur 1", "Propriétaire", "128", "--use-aes=n"}, []string{"--password-file", pwFile}, "B-T"},
		{"AES-128", []string{"--encrypt", "Utilisateur 1", "Propriétaire", "128", "--use-aes=y"}, []string{"PARAPHE_PDF_PASSWORD=Utilisateur 1"}, "B-T"},
		{"AES-256", []string{"--encrypt", "Utilisateur 1", "Propriétaire", "256"}, []string{"--password-file", pwFile}, "B-LT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := keep(protectPDF(t, dir, tc.name+".pdf", tc.qpdf...))
			out := strings.TrimSuffix(in, ".pdf") + "-signed.pdf"
			// Without a password (and no terminal to ask on): 24.
			r := runBin(t, "", env, "paraphe", "sign", "--level", "B-B", in)
			if r.code != explain.ExitPDFEncrypted || !strings.Contains(r.stderr, "is protected by a password that opens it") ||
				!strings.Contains(r.stderr, "--password-file") {
				t.Fatalf("no password: %+v", r)
			}
			// A wrong one: 41, in the user's language too.
			r = runBin(t, "", append([]string{"PARAPHE_PDF_PASSWORD=utilisateur 1"}, env...), "paraphe", "sign", "--level", "B-B", in)
			if r.code != explain.ExitPDFWrongPassword || !strings.Contains(r.stderr, "the password given does not open") {
				t.Fatalf("wrong password: %+v", r)
			}
			fr := runBin(t, "", append([]string{"PARAPHE_LANG=fr", "PARAPHE_PDF_PASSWORD=x"}, env...), "paraphe", "sign", "--level", "B-B", in)
			if fr.code != explain.ExitPDFWrongPassword || !strings.Contains(fr.stderr, "le mot de passe indiqué n'ouvre pas") {
				t.Fatalf("wrong password, in French: %+v", fr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("refused, yet an output was written")
			}

			args := []string{"sign", "--level", tc.level, in}
			e := env
			if strings.HasPrefix(tc.how[0], "--") {
				args = append(append([]string{"sign"}, tc.how...), args[1:]...)
			} else {
				e = append(append([]string{}, tc.how...), env...)
			}
			if r := runBin(t, "", e, "paraphe", args...); r.code != 0 || !strings.Contains(r.stdout, out) {
				t.Fatalf("sign: %+v", r)
			}
			verified(t, out, "Utilisateur 1")
			// verify with a wrong password: 41 as well.
			if r := runBin(t, "", append([]string{"PARAPHE_PDF_PASSWORD=x"}, w.env...), "paraphe", "verify", out); r.code != explain.ExitPDFWrongPassword {
				t.Errorf("verify, wrong password: %+v", r)
			}
		})
	}

	// On a terminal (script(1) gives paraphe one), the password of each
	// file that needs one is asked before the PIN, saying which.
	t.Run("terminal", func(t *testing.T) {
		testenv.Require(t, "script")
		locked := keep(protectPDF(t, dir, "asked.pdf", "--encrypt", "Utilisateur 1", "Propriétaire", "256"))
		restricted := keep(protectPDF(t, dir, "asked-restricted.pdf", "--encrypt", "", "Propriétaire", "128", "--use-aes=y", "--modify=none"))
		cmd := exec.Command("script", "--quiet", "--return", "--echo", "never", "--command",
			filepath.Join(binDir, "paraphe")+" sign --level B-B "+locked+" "+restricted, "/dev/null")
		cmd.Env = append(append(os.Environ(), "PARAPHE_LANG=en"), env...)
		cmd.Stdin = strings.NewReader("Utilisateur 1\nPropriétaire\n")
		b, err := cmd.CombinedOutput()
		out := string(b)
		if err != nil || !strings.Contains(out, "Password of "+locked) || !strings.Contains(out, "Owner password of "+restricted) {
			t.Fatalf("%v\n%s", err, out)
		}
		verified(t, strings.TrimSuffix(locked, ".pdf")+"-signed.pdf", "Utilisateur 1")
		verified(t, strings.TrimSuffix(restricted, ".pdf")+"-signed.pdf", "")
	})

	t.Run("permissions", func(t *testing.T) {
		// Opened by the empty password, protected against changes.
		in := keep(protectPDF(t, dir, "restricted.pdf", "--encrypt", "", "Propriétaire", "256", "--modify=none"))
		out := strings.TrimSuffix(in, ".pdf") + "-signed.pdf"
		r := runBin(t, "", env, "paraphe", "sign", "--level", "B-B", in)
		if r.code != explain.ExitPDFPermission || !strings.Contains(r.stderr, "is protected against changes") || !strings.Contains(r.stderr, "owner password") {
			t.Fatalf("restricted: %+v", r)
		}
		r = runBin(t, "", env, "paraphe", "sign", "--level", "B-B", "--password-file", pwFile, in)
		if r.code != explain.ExitPDFWrongPassword {
			t.Fatalf("restricted, a password that is not its owner's: %+v", r)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("refused, yet an output was written")
		}
		if r := runBin(t, "", env, "paraphe", "sign", "--level", "B-T", "--password-file", ownerFile, in); r.code != 0 {
			t.Fatalf("restricted, with the owner password: %+v", r)
		}
		verified(t, out, "")
	})

	for p, want := range sums {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Errorf("%s changed", p)
		}
	}
}
