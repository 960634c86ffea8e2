package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
)

func runCA(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(i18n.New("en"), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if code, _, stderr := runCA(t, "", "init", "--dir", dir, "--host", "ca.example.org"); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "policy.json")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCA(t, "", "init", "--dir", dir); code != exitState || !strings.Contains(stderr, "already holds a CA") {
		t.Fatalf("second init: %d %s", code, stderr)
	}

	// Enrol from a file, and from standard input with --json output.
	record := filepath.Join(t.TempDir(), "anna.json")
	os.WriteFile(record, []byte(`{"name": "Anna Rossi", "title": "Avvocato", "member_number": "RM-889",
		"organization": "Ordine degli Avvocati di Roma", "questions": [{"question": "Città?", "answer": "Roma"},
		{"question": "Animale?", "answer": "Micio"}, {"question": "Scuola?", "answer": "Carducci"}]}`), 0o600)
	code, stdout, stderr := runCA(t, "", "enroll", "--dir", dir, "--file", record)
	if code != exitOK || len(testenv.LastLine(stdout)) != 19 {
		t.Fatalf("enroll --file: %d %q %s", code, stdout, stderr)
	}
	if code, _, stderr := runCA(t, "", "enroll", "--dir", dir, "--file", filepath.Join(dir, "missing.json")); code != exitInput || !strings.Contains(stderr, "missing.json") {
		t.Fatalf("enroll --file with no such file: %d %s", code, stderr)
	}
	code, stdout, _ = runCA(t, testenv.HolderJSON(), "enroll", "--dir", dir, "--json")
	var rec struct {
		Name      string
		Reference string
		Questions []any
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &rec) != nil || rec.Name != "Marie Dupont" || len(rec.Reference) != 19 {
		t.Fatalf("enroll --json: %d %s", code, stdout)
	}
	if rec.Questions != nil || strings.Contains(stdout, "Montréal") {
		t.Fatalf("enroll --json prints the questions or answers: %s", stdout)
	}
	ref := rec.Reference

	if code, _, stderr := runCA(t, `{"name": "X", "questions": [`, "enroll", "--dir", dir); code != exitInput || !strings.Contains(stderr, "not valid JSON") {
		t.Fatalf("broken JSON: %d %s", code, stderr)
	}
	if code, _, stderr := runCA(t, `{"name": "X", "title": "T", "member_number": "1", "organization": "O", "questions": []}`, "enroll", "--dir", dir); code != exitInput || !strings.Contains(stderr, "questions") {
		t.Fatalf("no questions: %d %s", code, stderr)
	}

	code, stdout, _ = runCA(t, "", "list", "--dir", dir, "--json")
	var hs []struct {
		References []struct{ Code, State string }
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &hs) != nil || len(hs) != 2 || hs[1].References[0].Code != ref[:4]+"-****" {
		t.Fatalf("list --json: %d %s", code, stdout)
	}
	if code, stdout, _ := runCA(t, "", "list", "--dir", dir, "--full-codes"); code != exitOK || !strings.Contains(stdout, ref) {
		t.Fatalf("list --full-codes: %s", stdout)
	}

	if code, _, stderr := runCA(t, "", "reissue", "--dir", dir, ref); code != exitState || !strings.Contains(stderr, "--force") {
		t.Fatalf("reissue of a usable code: %d %s", code, stderr)
	}
	if code, stdout, _ := runCA(t, "", "reissue", ref, "--dir", dir, "--force"); code != exitOK || testenv.LastLine(stdout) == ref {
		t.Fatalf("reissue --force: %d %s", code, stdout)
	}
	if code, _, stderr := runCA(t, "", "reissue", "--dir", dir, "0000-0000-0000-0000"); code != exitNotFound {
		t.Fatalf("reissue of an unknown code: %d %s", code, stderr)
	}
	if code, _, stderr := runCA(t, "", "revoke", "--dir", dir, "abcdef", "--reason", "keyCompromise"); code != exitNotFound || !strings.Contains(stderr, "serial") {
		t.Fatalf("revoke unknown serial: %d %s", code, stderr)
	}
	if code, _, stderr := runCA(t, "", "revoke", "--dir", dir, "abcdef", "--reason", "boredom"); code != exitInput {
		t.Fatalf("revoke with a bad reason: %d %s", code, stderr)
	}

	code, stdout, _ = runCA(t, "", "policy", "--dir", dir, "--url", "https://ca.example.org:8443")
	if code != exitOK || !strings.Contains(stdout, `"url": "https://ca.example.org:8443"`) {
		t.Fatalf("policy: %d %s", code, stdout)
	}
	if code, _, _ := runCA(t, "", "policy", "--dir", dir, "--url", "http://plain"); code != exitInput {
		t.Fatalf("policy with an http URL: %d", code)
	}
}

func TestUsageAndMissingDir(t *testing.T) {
	t.Setenv("PARAPHE_CA_DIR", "")
	if code, stdout, _ := runCA(t, "", "help"); code != exitOK || !strings.Contains(stdout, "paraphe-ca serve") {
		t.Fatalf("help: %d %s", code, stdout)
	}
	if code, _, _ := runCA(t, ""); code != exitUsage {
		t.Fatalf("no arguments: %d", code)
	}
	if code, _, stderr := runCA(t, "", "list"); code != exitUsage || !strings.Contains(stderr, "--dir") {
		t.Fatalf("list without --dir: %d %s", code, stderr)
	}
	if code, _, stderr := runCA(t, "", "serve", "--dir", t.TempDir()); code != exitNotFound || !strings.Contains(stderr, "holds no CA") {
		t.Fatalf("serve on an empty folder: %d %s", code, stderr)
	}
}

// Answers never go on a command line, where every user of the machine
// reads them (ps, /proc/PID/cmdline) and shells keep them in history.
func TestEnrollRefusesAnswersOnTheCommandLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if code, _, stderr := runCA(t, "", "init", "--dir", dir); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	for _, args := range [][]string{
		{"--name", "Anna Rossi", "--question", "Città?", "--answer", "Roma"},
		{"--answer=Roma"},
		{"-answer", "Roma"},
		{"--question", "Città?"},
	} {
		code, _, stderr := runCA(t, testenv.HolderJSON(), append([]string{"enroll", "--dir", dir}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, "never on the command line") || strings.Contains(stderr, "Roma") {
			t.Errorf("enroll %v: %d %s", args, code, stderr)
		}
	}
	if _, stdout, _ := runCA(t, "", "list", "--dir", dir, "--json"); strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("a refused enrolment registered someone: %s", stdout)
	}
}
