package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// issuePadded activates a holder of the CA in dir in process, then renews
// the certificate until one has a serial number of odd hex length (one
// openssl prints with a 0 in front), and returns that one.
func issuePadded(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	newKey := func() *ecdsa.PrivateKey {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	cert := testenv.Issue(t, a, newKey())
	// About one serial in eight has an odd length: 200 renewals all even
	// would happen once in 10^10 runs.
	for range 200 {
		if len(fmt.Sprintf("%x", cert.SerialNumber))%2 == 1 {
			return cert
		}
		if cert, err = a.Reenroll(context.Background(), cert, testenv.CSR(t, newKey()), ""); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("no serial number of odd length in 200 renewals")
	return nil
}

// An operator copies the serial number from openssl x509 -serial: upper
// case, zero-padded to whole bytes, "serial=" in front.
func TestRevokeSerialAsOpenSSLPrintsIt(t *testing.T) {
	testenv.Require(t, "openssl")
	dir := filepath.Join(t.TempDir(), "ca")
	if code, _, stderr := runCA(t, "", "init", "--dir", dir); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	cert := issuePadded(t, dir)
	path := filepath.Join(t.TempDir(), "cert.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
	out, err := exec.Command("openssl", "x509", "-in", path, "-noout", "-serial").Output()
	if err != nil {
		t.Fatal(err)
	}
	printed := strings.TrimSpace(string(out)) // serial=0XXXX…
	_, value, _ := strings.Cut(printed, "=")
	want := fmt.Sprintf("%x", cert.SerialNumber)
	if !strings.HasPrefix(value, "0") || value != strings.ToUpper(value) || strings.ToLower(value) != "0"+want {
		t.Fatalf("openssl prints %q for %s: the test needs a padded serial", printed, want)
	}
	code, stdout, stderr := runCA(t, "", "revoke", "--dir", dir, value, "--reason", "cessationOfOperation")
	if code != exitOK {
		t.Fatalf("revoke %s: %d %s", value, code, stderr)
	}
	if !strings.Contains(stdout, want) {
		t.Errorf("revoke says %q, want the serial as list shows it (%s)", stdout, want)
	}
	if !revokedInList(t, dir, want) {
		t.Fatalf("%s is not revoked in list --json", want)
	}
	// The whole line openssl prints, and colons with lower case, find the
	// same certificate (already revoked); what is no serial number at all
	// is invalid input, not "not found".
	var pairs []string
	for i := 0; i < len(value); i += 2 {
		pairs = append(pairs, strings.ToLower(value[i:i+2]))
	}
	for _, again := range []string{printed, strings.Join(pairs, ":")} {
		if code, _, stderr := runCA(t, "", "revoke", "--dir", dir, again); code != exitState || !strings.Contains(stderr, "already revoked") {
			t.Errorf("revoke %s again: %d %s", again, code, stderr)
		}
	}
	if code, _, stderr := runCA(t, "", "revoke", "--dir", dir, "not-hex"); code != exitInput || !strings.Contains(stderr, "serial") {
		t.Fatalf("revoke not-hex: %d %s", code, stderr)
	}
}

func revokedInList(t *testing.T, dir, serial string) bool {
	t.Helper()
	code, stdout, stderr := runCA(t, "", "list", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("list: %d %s", code, stderr)
	}
	var hs []ca.HolderStatus
	if err := json.Unmarshal([]byte(stdout), &hs); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		for _, c := range h.Certificates {
			if c.Serial == serial {
				return c.Revoked != nil
			}
		}
	}
	t.Fatalf("%s not in list --json", serial)
	return false
}

// enroll --json prints the id list --json shows for the same holder.
func TestEnrollJSONPrintsTheID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	if code, _, stderr := runCA(t, "", "init", "--dir", dir); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	var ids []int64
	for range 3 {
		code, stdout, stderr := runCA(t, testenv.HolderJSON(), "enroll", "--dir", dir, "--json")
		var rec struct {
			ID        int64 `json:"id"`
			Reference string
		}
		if code != exitOK || json.Unmarshal([]byte(stdout), &rec) != nil {
			t.Fatalf("enroll --json: %d %s %s", code, stdout, stderr)
		}
		ids = append(ids, rec.ID)
	}
	_, stdout, _ := runCA(t, "", "list", "--dir", dir, "--json")
	var hs []ca.HolderStatus
	if err := json.Unmarshal([]byte(stdout), &hs); err != nil || len(hs) != 3 {
		t.Fatalf("list --json: %v %s", err, stdout)
	}
	for i, h := range hs {
		if h.ID != ids[i] {
			t.Errorf("holder %d: enroll --json said id %d, list --json says %d", i, ids[i], h.ID)
		}
	}
}
