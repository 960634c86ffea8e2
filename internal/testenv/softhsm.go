package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SoftHSMModule is where Debian's softhsm2 package puts the PKCS#11 module.
const SoftHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// Token is an initialised SoftHSM2 token in a private folder.
type Token struct {
	Conf   string   // the SOFTHSM2_CONF file
	Module string   // PKCS#11 module path
	Label  string   // token label
	SOPIN  string   // security officer PIN (the PUK)
	PIN    string   // user PIN
	Env    []string // SOFTHSM2_CONF=… for child processes
}

// NewToken initialises a token labelled label in a temporary folder and
// points SOFTHSM2_CONF at it for the rest of the test.
func NewToken(t testing.TB, label string) *Token {
	t.Helper()
	Require(t, "softhsm2-util")
	if _, err := os.Stat(SoftHSMModule); err != nil {
		Missing(t, "the SoftHSM2 module is not installed (make deps installs softhsm2)")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	tok := &Token{Conf: filepath.Join(dir, "softhsm2.conf"), Module: SoftHSMModule, Label: label, SOPIN: "87654321", PIN: "12345678"}
	conf := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens)
	if err := os.WriteFile(tok.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tok.Env = []string{"SOFTHSM2_CONF=" + tok.Conf}
	t.Setenv("SOFTHSM2_CONF", tok.Conf)
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", tok.SOPIN, "--pin", tok.PIN).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return tok
}
