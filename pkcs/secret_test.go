//go:build cgo

package pkcs

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// A secret key made on the token seals and opens there, binds what it
// seals to its purpose, and cannot be read out: pkcs11-tool, which is not
// ours, sees it sensitive and never extractable, and fails to read it.
func TestSecretKey(t *testing.T) {
	tok := newTestToken(t, "secret")
	k, err := OpenTokenKeys(tok.Module, tok.Label, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	key, err := k.NewSecretKey("Paraphe test master key")
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("a document key of thirty-two by.")
	sealed, err := key.Seal(plain, []byte("document:1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := k.SecretKey(key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed, []byte("document:1")); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q, %v", got, err)
	}
	if other, _ := key.Seal(plain, []byte("document:1")); bytes.Equal(other[:12], sealed[:12]) {
		t.Fatal("two seals used one nonce")
	}
	if _, err := again.Open(sealed, []byte("document:2")); !errors.Is(err, ErrSecretOpen) {
		t.Fatalf("opened for another purpose: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.Open(sealed, []byte("document:1")); !errors.Is(err, ErrSecretOpen) {
		t.Fatalf("opened altered: %v", err)
	}
	m1, err1 := key.CMAC([]byte("csrf"))
	m2, err2 := again.CMAC([]byte("csrf"))
	m3, err3 := key.CMAC([]byte("csrg"))
	if err1 != nil || err2 != nil || err3 != nil || len(m1) != 16 || !bytes.Equal(m1, m2) || bytes.Equal(m1, m3) {
		t.Fatalf("CMAC: %x %x %x, %v %v %v", m1, m2, m3, err1, err2, err3)
	}
	if _, err := k.SecretKey("00ff"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing key: %v", err)
	}
	other, err := k.NewSecretKey("Paraphe test key to destroy")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.SecretKey(other.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a destroyed key: %v", err)
	}

	testenv.Require(t, "pkcs11-tool")
	tool := func(args ...string) (string, error) {
		out, err := exec.Command("pkcs11-tool", append([]string{"--module", tok.Module, "--token-label", tok.Label,
			"--login", "--pin", tok.PIN}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := tool("--list-objects", "--type", "secrkey")
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	for _, want := range []string{"Secret Key Object; AES length 32", "ID:         " + key.ID, "Usage:      encrypt, decrypt", "sensitive", "never extractable"} {
		if !strings.Contains(out, want) {
			t.Errorf("pkcs11-tool does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "wrap") {
		t.Errorf("the key wraps other keys out:\n%s", out)
	}
	out, err = tool("--read-object", "--type", "secrkey", "--id", key.ID)
	if err == nil || !strings.Contains(out, "CKA_VALUE") {
		t.Fatalf("pkcs11-tool read the key out: %v\n%s", err, out)
	}
}
