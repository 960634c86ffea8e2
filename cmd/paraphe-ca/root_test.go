package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// rootWorld is a CA whose root folder lies beside its own, in a folder
// another user can reach.
func rootWorld(t *testing.T) (dir, root string) {
	t.Helper()
	base, err := os.MkdirTemp("", "paraphe-ca-root-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(base, "root"), 0o700)
		os.RemoveAll(base)
	})
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, "ca"), filepath.Join(base, "root")
}

func sh(t *testing.T, dir, script string, env ...string) string {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s\n%v\n%s", script, err, out)
	}
	return string(out)
}

// paraphe-ca serve runs with no root private key it can read: as another
// user than the root folder's (or, when the tests are not root, with that
// folder unreadable). The root CRL is served from the file signed ahead;
// the certificates the root issued (issuing CA, TSA, TLS) are listed, and
// paraphe-ca revoke revokes them with the root key from --root-dir,
// signing the root CRL again, which the running server then serves.
func TestServeWithoutTheRootKey(t *testing.T) {
	testenv.Require(t, "openssl", "curl")
	bin := filepath.Join(testenv.GoBuild(t, t.TempDir(), "github.com/paraphe/paraphe/cmd/paraphe-ca"), "paraphe-ca")
	dir, root := rootWorld(t)
	asRoot := os.Geteuid() == 0
	var wrapper []string
	if asRoot {
		testenv.Require(t, "setpriv")
		wrapper = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	}
	srv := testenv.StartCAProcessWith(t, bin, testenv.CAProcessOptions{Dir: dir, InitArgs: []string{"--root-dir", root}, Wrapper: wrapper,
		Prepare: func(dir string) {
			if _, err := os.Stat(filepath.Join(root, "root.key")); err != nil {
				t.Fatalf("init left no root key in --root-dir: %v", err)
			}
			if asRoot { // the server's folder is nobody's; the root folder stays root's, 0700
				filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
					if err == nil {
						err = os.Lchown(p, 65534, 65534)
					}
					return err
				})
			} else {
				os.Chmod(root, 0)
			}
		}})
	// The server's credentials cannot read the root key.
	if asRoot {
		probe := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "cat", filepath.Join(root, "root.key"))
		if out, err := probe.CombinedOutput(); err == nil || !strings.Contains(string(out), "Permission denied") {
			t.Fatalf("the server's user reads the root key: %v %s", err, out)
		}
		status, _ := os.ReadFile("/proc/" + strconv.Itoa(srv.PID()) + "/status")
		if !strings.Contains(string(status), "\nUid:\t65534\t65534\t65534\t65534\n") {
			t.Fatalf("the server does not run as nobody:\n%s", status)
		}
	} else if f, err := os.Open(filepath.Join(root, "root.key")); err == nil {
		f.Close()
		t.Fatal("the root key is readable")
	}
	for _, name := range []string{"root.key", filepath.Join("root", "root.key")} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Fatalf("%s is in the server's folder", name)
		}
	}
	env := []string{"VURL=" + srv.ValidationURL, "CA=" + dir}
	work := t.TempDir()

	// The root CRL as served is the file, signed ahead by the root.
	out := sh(t, work, `curl -sS -o root.crl "$VURL/crl/root.crl"
cmp root.crl "$CA/root.crl" && echo same-file
openssl crl -inform DER -in root.crl -CAfile "$CA/root.pem" -noout -nextupdate 2>&1`, env...)
	if !strings.Contains(out, "same-file") || !strings.Contains(out, "verify OK") {
		t.Fatalf("root CRL:\n%s", out)
	}
	next, err := time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimSpace(out[strings.Index(out, "nextUpdate=")+len("nextUpdate="):]))
	if err != nil || next.Before(time.Now().AddDate(0, 0, 89)) {
		t.Fatalf("root CRL valid until %v (%v), want 90 days ahead", next, err)
	}

	// The root's certificates are listed…
	os.Chmod(root, 0o700) // the operator brings the root folder back
	code, stdout, stderr := runCA(t, "", "list", "--dir", dir, "--ca", "--json")
	var certs []ca.AuthorityCert
	if code != exitOK || json.Unmarshal([]byte(stdout), &certs) != nil {
		t.Fatalf("list --ca --json: %d %s %s", code, stdout, stderr)
	}
	serials := map[string]string{}
	for _, c := range certs {
		serials[c.Role] = c.Serial
	}
	for role, file := range map[string]string{"issuing": "issuing.pem", "tsa": "tsa.pem", "tls": "tls.pem"} {
		printed := strings.TrimSpace(sh(t, dir, "openssl x509 -in "+file+" -noout -serial"))
		if want, _ := ca.ParseSerial(printed); serials[role] != want {
			t.Errorf("list --ca: %s serial %q, %s has %s", role, serials[role], file, printed)
		}
	}
	// … and revoked, with the root key only.
	if code, _, stderr := runCA(t, "", "revoke", "--dir", dir, serials["tsa"], "--reason", "keyCompromise"); code != exitUsage || !strings.Contains(stderr, "--root-dir") {
		t.Fatalf("revoke of the TSA without the root: %d %s", code, stderr)
	}
	for _, role := range []string{"tsa", "tls"} {
		code, stdout, stderr := runCA(t, "", "revoke", "--dir", dir, "--root-dir", root, serials[role], "--reason", "keyCompromise")
		if code != exitOK || !strings.Contains(stdout, "root CRL") {
			t.Fatalf("revoke %s: %d %s %s", role, code, stdout, stderr)
		}
	}
	out = sh(t, work, `curl -sS -o root.crl "$VURL/crl/root.crl"
openssl crl -inform DER -in root.crl -CAfile "$CA/root.pem" -noout -text 2>&1`, env...)
	for _, role := range []string{"tsa", "tls"} {
		if !strings.Contains(strings.ToLower(strings.ReplaceAll(out, ":", "")), serials[role]) {
			t.Errorf("the served root CRL lacks the %s certificate %s:\n%s", role, serials[role], out)
		}
	}
	if !strings.Contains(out, "verify OK") || strings.Count(out, "Key Compromise") != 2 {
		t.Fatalf("root CRL after revocation:\n%s", out)
	}
	_, stdout, _ = runCA(t, "", "list", "--dir", dir, "--ca")
	if strings.Count(stdout, "(revoked)") != 2 {
		t.Fatalf("list --ca after revocation:\n%s", stdout)
	}
}

// serve refuses to run next to a root private key, or without the root
// CRL it serves: the operator is told what to move or sign.
func TestServeRefusesTheRootKeyInItsFolder(t *testing.T) {
	bin := filepath.Join(testenv.GoBuild(t, t.TempDir(), "github.com/paraphe/paraphe/cmd/paraphe-ca"), "paraphe-ca")
	dir, root := rootWorld(t)
	if code, _, stderr := runCA(t, "", "init", "--dir", dir, "--root-dir", root); code != exitOK {
		t.Fatalf("init: %d %s", code, stderr)
	}
	serve := func() (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "serve", "--dir", dir, "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), "PARAPHE_LANG=en")
		out, _ := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("serve ran:\n%s", out)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	key, _ := os.ReadFile(filepath.Join(root, "root.key"))
	os.WriteFile(filepath.Join(dir, "root.key"), key, 0o600)
	if code, out := serve(); code != exitState || !strings.Contains(out, "root CA's private key") || !strings.Contains(out, "hint:") {
		t.Fatalf("serve beside the root key: %d %s", code, out)
	}
	os.Remove(filepath.Join(dir, "root.key"))
	os.Remove(filepath.Join(dir, "root.crl"))
	if code, out := serve(); code != exitState || !strings.Contains(out, "root CRL") || !strings.Contains(out, "paraphe-ca root crl") {
		t.Fatalf("serve without the root CRL: %d %s", code, out)
	}
	// paraphe-ca root crl signs it again, numbered after the last.
	if code, stdout, stderr := runCA(t, "", "root", "crl", "--dir", dir, "--root-dir", root); code != exitOK || !strings.Contains(stdout, "valid until") {
		t.Fatalf("root crl: %d %s %s", code, stdout, stderr)
	}
	out := sh(t, dir, `openssl crl -inform DER -in root.crl -CAfile root.pem -noout -crlnumber 2>&1`)
	if !strings.Contains(out, "verify OK") || !strings.Contains(out, "crlNumber=") {
		t.Fatalf("root crl:\n%s", out)
	}
	if code, _, stderr := runCA(t, "", "root", "crl", "--dir", dir, "--root-dir", t.TempDir()); code != exitNotFound || !strings.Contains(stderr, "root") {
		t.Fatalf("root crl with a folder without the root: %d %s", code, stderr)
	}
}

// root renew gives the TLS server a new certificate from the root; list
// --ca shows the old one replaced.
func TestRootRenew(t *testing.T) {
	dir, root := rootWorld(t)
	if code, stdout, stderr := runCA(t, "", "init", "--dir", dir, "--root-dir", root, "--host", "ca.example.org"); code != exitOK || !strings.Contains(stdout, root) {
		t.Fatalf("init: %d %s %s", code, stdout, stderr)
	}
	if code, _, stderr := runCA(t, "", "root", "renew", "--dir", dir, "--root-dir", root, "issuing"); code != exitUsage {
		t.Fatalf("root renew issuing: %d %s", code, stderr)
	}
	code, stdout, stderr := runCA(t, "", "root", "renew", "--dir", dir, "--root-dir", root, "tls")
	if code != exitOK || !strings.Contains(stdout, "New TLS certificate") || !strings.Contains(stdout, "--reason superseded") {
		t.Fatalf("root renew tls: %d %s %s", code, stdout, stderr)
	}
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(a.TLS.Leaf.DNSNames, " "), "ca.example.org") {
		t.Fatalf("the new TLS certificate is for %v", a.TLS.Leaf.DNSNames)
	}
	a.Close()
	_, stdout, _ = runCA(t, "", "list", "--dir", dir, "--ca")
	if strings.Count(stdout, "TLS ") != 2 || !strings.Contains(stdout, "(replaced)") || !strings.Contains(stdout, "Root CRL valid until") {
		t.Fatalf("list --ca:\n%s", stdout)
	}
}
