package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// What the tests that stay in Go (a race of parallel processes, the cut
// corpus) share: paraphe run as a process, against a paraphe-ca serve
// process, with keys in the Secret Service of TestMain.

type result struct {
	code           int
	stdout, stderr string
}

// paraphe starts this test binary as paraphe (testscript.Main put it in
// PATH) with env added to this process's environment.
func paraphe(t testing.TB, env []string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("paraphe")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "PARAPHE_LANG=en"), env...)
	return cmd
}

// runBin runs paraphe and returns what it said and its exit code.
func runBin(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := paraphe(t, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	return waitResult(t, cmd.Run(), &out, &errb)
}

func waitResult(t *testing.T, err error, out, errb *bytes.Buffer) result {
	t.Helper()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

const testPIN = "Corr3ct-Horse!"

// activated starts a CA, activates the test holder's certificate into the
// keychain, and returns the environment that uses it.
func activated(t *testing.T) []string {
	t.Helper()
	testenv.NeedSecretService(t)
	srv := testenv.StartCAProcess(t, caBin)
	enroll := exec.Command(caBin, "enroll", "--dir", srv.Dir)
	enroll.Stdin = strings.NewReader(testenv.HolderJSON())
	out, err := enroll.Output()
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	answers := filepath.Join(t.TempDir(), "answers.txt")
	os.WriteFile(answers, []byte(strings.Join(testenv.Answers, "\n")+"\n"), 0o600)
	env := []string{"PARAPHE_HOME=" + filepath.Join(t.TempDir(), "home"), "PARAPHE_POLICY=" + srv.Policy}
	if r := runBin(t, append([]string{"PARAPHE_PIN=" + testPIN}, env...), "activate", "--ref", testenv.LastLine(string(out)), "--answers-file", answers); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	return env
}

// minimalPDF is a one-page PDF with a classic cross-reference table.
func minimalPDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length 44 >>\nstream\nBT /F1 24 Tf 72 760 Td (Acte de vente) Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.7\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		b.WriteString(strconv.Itoa(i+1) + " 0 obj\n" + o + "\nendobj\n")
	}
	x := b.Len()
	b.WriteString("xref\n0 6\n0000000000 65535 f \n")
	for _, o := range offs {
		s := strconv.Itoa(o)
		b.WriteString(strings.Repeat("0", 10-len(s)) + s + " 00000 n \n")
	}
	b.WriteString("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n" + strconv.Itoa(x) + "\n%%EOF\n")
	return []byte(b.String())
}
