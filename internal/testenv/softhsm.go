package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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

// SoftHSM reads SOFTHSM2_CONF once, when the module is initialised, and a
// process initialises a module once: so all tokens of a test process live in
// one folder (removed by Main), each with its own label, and each is
// deleted when its test ends. SoftHSM finds new tokens at C_GetSlotList.
var softhsm struct {
	sync.Mutex
	dir, conf string
	n         int
}

// NewToken initialises a fresh token whose label starts with label and is
// unique in the process, and deletes it when the test ends.
func NewToken(t testing.TB, label string) *Token {
	t.Helper()
	tok := newProcessToken(t, label)
	t.Cleanup(func() { tok.softhsm("--delete-token", "--token", tok.Label) })
	return tok
}

var processToken struct {
	sync.Mutex
	tok *Token
}

// ProcessToken is one token for the whole test process, made when first
// asked for and kept until Main (or MainWithSecretService) removes the
// process's SoftHSM folder: for the tests and benchmarks of a package that
// load the module in process, where SoftHSM sees only the tokens made
// before it was first loaded.
func ProcessToken(t testing.TB) *Token {
	t.Helper()
	processToken.Lock()
	defer processToken.Unlock()
	if processToken.tok == nil {
		processToken.tok = newProcessToken(t, "process")
	}
	return processToken.tok
}

// Main is a TestMain body for packages whose tests use tokens but no
// keychain: it runs the tests, removes the SoftHSM folder, and returns the
// exit code.
func Main(m interface{ Run() int }) int {
	QuickKDFInShort()
	code := m.Run()
	removeSoftHSM()
	return code
}

// newProcessToken initialises a token in the process's SoftHSM folder.
func newProcessToken(t testing.TB, label string) *Token {
	t.Helper()
	Require(t, "softhsm2-util")
	if _, err := os.Stat(SoftHSMModule); err != nil {
		Missing(t, "the SoftHSM2 module is not installed (make deps installs softhsm2)")
	}
	softhsm.Lock()
	if softhsm.dir == "" {
		dir, err := os.MkdirTemp("", "paraphe-softhsm-")
		if err != nil {
			softhsm.Unlock()
			t.Fatal(err)
		}
		tokens := filepath.Join(dir, "tokens")
		os.MkdirAll(tokens, 0o700)
		conf := filepath.Join(dir, "softhsm2.conf")
		data := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens)
		if err := os.WriteFile(conf, []byte(data), 0o600); err != nil {
			softhsm.Unlock()
			t.Fatal(err)
		}
		softhsm.dir, softhsm.conf = dir, conf
		os.Setenv("SOFTHSM2_CONF", conf)
	}
	softhsm.n++
	conf, n := softhsm.conf, softhsm.n
	softhsm.Unlock()
	return initToken(t, conf, fmt.Sprintf("%s-%d", label, n))
}

// NewTokenIn initialises a token labelled label in a SoftHSM2 folder of its
// own, dir (created with its configuration file when missing): for child
// processes only, which read SOFTHSM2_CONF (Token.Env) when they start, so
// that tests running side by side each see their own tokens. The token goes
// when dir is removed.
func NewTokenIn(t testing.TB, dir, label string) *Token {
	t.Helper()
	Require(t, "softhsm2-util")
	if _, err := os.Stat(SoftHSMModule); err != nil {
		Missing(t, "the SoftHSM2 module is not installed (make deps installs softhsm2)")
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if _, err := os.Stat(conf); err != nil {
		tokens := filepath.Join(dir, "tokens")
		if err := os.MkdirAll(tokens, 0o700); err != nil {
			t.Fatal(err)
		}
		data := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens)
		if err := os.WriteFile(conf, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return initToken(t, conf, label)
}

// initToken initialises a token labelled label in the SoftHSM2 folder conf
// names, with the user PIN 12345678 and the security officer PIN 87654321.
func initToken(t testing.TB, conf, label string) *Token {
	t.Helper()
	tok := &Token{Conf: conf, Module: SoftHSMModule, Label: label, SOPIN: "87654321", PIN: "12345678"}
	tok.Env = []string{"SOFTHSM2_CONF=" + tok.Conf}
	if err := tok.softhsm("--init-token", "--free", "--label", tok.Label, "--so-pin", tok.SOPIN, "--pin", tok.PIN); err != nil {
		t.Fatal(err)
	}
	return tok
}

func (tok *Token) softhsm(args ...string) error {
	cmd := exec.Command("softhsm2-util", args...)
	cmd.Env = append(os.Environ(), tok.Env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("softhsm2-util %s: %v\n%s", args[0], err, out)
	}
	return nil
}

// Remove deletes the token behind the module's back, as pulling a USB
// token out would.
func (tok *Token) Remove() error { return tok.softhsm("--delete-token", "--token", tok.Label) }

// removeSoftHSM deletes the process's token folder.
func removeSoftHSM() {
	softhsm.Lock()
	defer softhsm.Unlock()
	if softhsm.dir != "" {
		os.RemoveAll(softhsm.dir)
	}
}
