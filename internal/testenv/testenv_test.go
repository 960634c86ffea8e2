package testenv

import (
	"net"
	"os/exec"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	tok := NewToken(t, "paraphe-test")
	cmd := exec.Command("softhsm2-util", "--show-slots")
	cmd.Env = append(cmd.Environ(), tok.Env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), tok.Label) {
		t.Fatalf("token not listed:\n%s", out)
	}
	Require(t, "pkcs11-tool")
	out, err = exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN, "--list-objects").CombinedOutput()
	if err != nil {
		t.Fatalf("login with the user PIN: %v\n%s", err, out)
	}
}

func TestSecretService(t *testing.T) {
	s, err := StartSecretService()
	if err != nil {
		Missing(t, err.Error())
	}
	defer s.Stop()
	// A client outside this process can store and read a secret.
	Require(t, "secret-tool")
	env := append(s.Env, "PATH=/usr/bin:/bin")
	store := exec.Command("secret-tool", "store", "--label=probe", "service", "paraphe-test")
	store.Env = env
	store.Stdin = strings.NewReader("s3cret")
	if out, err := store.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v\n%s", err, out)
	}
	lookup := exec.Command("secret-tool", "lookup", "service", "paraphe-test")
	lookup.Env = env
	out, err := lookup.Output()
	if err != nil || string(out) != "s3cret" {
		t.Fatalf("secret-tool lookup: %q %v", out, err)
	}
}

func TestSquid(t *testing.T) {
	s := StartSquid(t, SquidOptions{})
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

func TestDante(t *testing.T) {
	s := StartDante(t)
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}
