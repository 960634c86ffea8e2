package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// anchorOf returns the single anchor of a policy file.
func anchorOf(t *testing.T, path string) string {
	t.Helper()
	p, err := config.ReadPolicy(path)
	if err != nil || len(p.CA.Anchors) != 1 {
		t.Fatalf("policy %s: %v", path, err)
	}
	return p.CA.Anchors[0]
}

// Acceptance 4: IT points a policy at a running paraphe-ca with nothing but
// its address; a holder then activates with that policy.
func TestAdminPolicyInitThenActivate(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	want := anchorOf(t, w.srv.Policy) // what "paraphe-ca policy" publishes

	r := runBin(t, "", nil, "paraphe", "admin", "policy", "init", "--ca", w.srv.URL, "--proxy", "none", "--key-stores", "keychain")
	if r.code != 0 {
		t.Fatalf("policy init: %+v", r)
	}
	pol := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(pol, []byte(r.stdout), 0o644)
	p, err := config.ReadPolicy(pol)
	if err != nil {
		t.Fatalf("the printed policy does not load: %v\n%s", err, r.stdout)
	}
	if p.CA.URL != w.srv.URL || len(p.CA.Anchors) != 1 || p.CA.Anchors[0] != want || p.Proxy != "none" || p.CA.Name == "" {
		t.Fatalf("policy %+v, want anchor %s", p, want)
	}
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "compare its fingerprint") || !strings.Contains(r.stderr, "Clients must reach") {
		t.Fatalf("init does not show the fingerprint to compare, or what to open: %s", r.stderr)
	}

	ref := w.enroll(t)
	r = runBin(t, "", []string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + pol, "PARAPHE_PIN=" + testPIN},
		"paraphe", "activate", "--ref", ref, "--answers-file", w.answersFile(t, testenv.Answers...))
	if r.code != 0 || !strings.Contains(r.stdout, "Certificate activated") {
		t.Fatalf("activate with the policy init wrote: %+v", r)
	}

	// The operator's fingerprint given: checked, and not asked to compare.
	r = runBin(t, "", nil, "paraphe", "admin", "policy", "init", "--ca", w.srv.URL, "--ca-fingerprint", strings.ToUpper(want))
	if r.code != 0 || strings.Contains(r.stderr, "compare its fingerprint") {
		t.Fatalf("init with the right fingerprint: %+v", r)
	}
	r = runBin(t, "", nil, "paraphe", "admin", "policy", "init", "--ca", w.srv.URL, "--ca-fingerprint", strings.Repeat("ab", 32))
	if r.code != explain.ExitTLSAnchor || r.stdout != "" {
		t.Fatalf("init with another fingerprint: %+v", r)
	}
	r = runBin(t, "", nil, "paraphe", "admin", "policy", "init", "--ca", "https://127.0.0.1:1", "--proxy", "none")
	if r.code != explain.ExitUnreachable || r.stdout != "" {
		t.Fatalf("init against nothing: %+v", r)
	}
	r = runBin(t, "", nil, "paraphe", "admin", "policy", "init", "--ca", strings.Replace(w.srv.URL, "https", "http", 1))
	if r.code != explain.ExitUsage || !strings.Contains(r.stderr, "ca.url must be an https:// address") {
		t.Fatalf("init with http: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe", "admin", "policy", "init"); r.code != explain.ExitUsage {
		t.Fatalf("init without --ca: %+v", r)
	}
}

// "admin policy write" is what the MSI runs with its public properties, and
// what IT runs on Linux after installing the package.
func TestAdminPolicyWrite(t *testing.T) {
	fp := strings.Repeat("c0", 32)
	path := filepath.Join(t.TempDir(), "ProgramData", "Paraphe", "policy.json")
	env := []string{"PARAPHE_POLICY=" + path}
	write := func(args ...string) result {
		return runBin(t, "", env, "paraphe", append([]string{"admin", "policy", "write"}, args...)...)
	}
	// The MSI passes every property, empty when not set: nothing to do.
	r := write("--ca", "", "--ca-fingerprint", "", "--proxy", "", "--pkcs11-module", "", "--key-stores", "", "--pin-policy", "")
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to change") {
		t.Fatalf("no properties: %+v", r)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a policy was written without properties: %v", err)
	}
	// A proxy alone names no CA: refused, nothing written.
	if r := write("--proxy", "http://proxy:3128"); r.code != explain.ExitUnconfigured || !strings.Contains(r.stderr, "CA_URL") {
		t.Fatalf("proxy alone: %+v", r)
	}
	// With the fingerprint, the CA is not contacted (it does not exist here).
	r = write("--ca", "https://ca.example.invalid:8443", "--ca-fingerprint", strings.ToUpper(colonsOf(fp)), "--proxy", "http://proxy.example:3128",
		"--key-stores", "pkcs11, keychain", "--pkcs11-module", `C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`,
		"--pin-policy", "token:min_length=6,max_length=6;keychain:max_attempts=3,require_special=false")
	if r.code != 0 || !strings.Contains(r.stdout, "Machine policy written to "+path) {
		t.Fatalf("write: %+v", r)
	}
	p, err := config.ReadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.CA.URL != "https://ca.example.invalid:8443" || p.CA.Anchors[0] != fp || p.Proxy != "http://proxy.example:3128" ||
		!slices.Equal(p.KeyStores, []config.Store{config.StorePKCS11, config.StoreKeychain}) || !strings.HasSuffix(p.PKCS11.Module, `opensc-pkcs11.dll`) ||
		p.PIN.Token.MinLength != 6 || p.PIN.Token.MaxLength != 6 || !p.PIN.Token.DigitsOnly ||
		p.PIN.Keychain.MaxAttempts != 3 || p.PIN.Keychain.RequireSpecial || !p.PIN.Keychain.RequireUpper {
		t.Fatalf("policy written: %+v", p)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("policy mode %v", st.Mode())
	}
	// A later run changes what it is given and keeps the rest (an upgrade
	// with one new property); the same CA needs no network either.
	if r := write("--ca", "https://ca.example.invalid:8443", "--proxy", "none"); r.code != 0 {
		t.Fatalf("rewrite: %+v", r)
	}
	if p, err := config.ReadPolicy(path); err != nil || p.Proxy != "none" || p.CA.Anchors[0] != fp || p.PIN.Token.MinLength != 6 {
		t.Fatalf("rewrite lost fields: %+v %v", p, err)
	}
	// Bad values are refused with the field, and the file is left alone.
	before, _ := os.ReadFile(path)
	for _, tt := range []struct{ args []string }{
		{[]string{"--proxy", "https://proxy:3128"}},
		{[]string{"--pin-policy", "token:min_length=six"}},
		{[]string{"--pin-policy", "tokens:min_length=6"}},
		{[]string{"--pin-policy", "token:colour=blue"}},
		{[]string{"--key-stores", "file"}},
		{[]string{"--ca-fingerprint", "abcd"}},
	} {
		if r := write(tt.args...); r.code != explain.ExitUsage || r.stderr == "" {
			t.Errorf("%v: %+v", tt.args, r)
		}
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a refused write changed the policy")
	}
	// Proxy credentials belong in the keychain: refused, and not repeated.
	if r := write("--proxy", "http://alice:s3cret@proxy:3128"); r.code != explain.ExitUsage || strings.Contains(r.stdout+r.stderr, "s3cret") || !strings.Contains(r.stderr, "keychain") {
		t.Fatalf("proxy with credentials: %+v", r)
	}
	// --log keeps what was said, failures included (the MSI's install log).
	log := filepath.Join(filepath.Dir(path), "install.log")
	write("--log", log, "--proxy", "none")
	write("--log", log, "--proxy", "ftp://proxy")
	if data, _ := os.ReadFile(log); strings.Count(string(data), "admin policy write") != 2 ||
		!strings.Contains(string(data), "Machine policy written to") || !strings.Contains(string(data), "proxy has a value that is not allowed") {
		t.Fatalf("install log:\n%s", data)
	}
	// The package's template is filled in place.
	tmpl, _ := os.ReadFile("../../installer/linux/policy.json")
	os.WriteFile(path, tmpl, 0o644)
	if r := write("--ca", "https://ca.example.invalid", "--ca-fingerprint", fp); r.code != 0 {
		t.Fatalf("filling the template: %+v", r)
	}
	if p, err := config.ReadPolicy(path); err != nil || p.CA.URL != "https://ca.example.invalid" || !slices.Equal(p.KeyStores, []config.Store{config.StoreKeychain, config.StorePKCS11}) {
		t.Fatalf("filled template: %+v %v", p, err)
	}
}

func colonsOf(h string) string {
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// Someone without the rights to change the machine policy is told to ask
// IT, with its own exit code.
func TestAdminPolicyWriteNeedsAdmin(t *testing.T) {
	dir, err := os.MkdirTemp("", "paraphe-etc-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	cmd := exec.Command(filepath.Join(binDir, "paraphe"), "admin", "policy", "write", "--ca", "https://ca.example", "--ca-fingerprint", strings.Repeat("c0", 32))
	cmd.Env = append(os.Environ(), "PARAPHE_LANG=en", "PARAPHE_POLICY="+filepath.Join(dir, "policy.json"))
	if os.Geteuid() == 0 {
		// root writes anywhere: run as nobody, who can read the folder
		// and run the program but not write there.
		os.Chmod(binDir, 0o755)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else {
		os.Chmod(dir, 0o555)
		defer os.Chmod(dir, 0o755)
	}
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != explain.ExitNotAdmin || !strings.Contains(string(out), "only an administrator can change the machine policy") || !strings.Contains(string(out), "sudo") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestAdminPolicyValidateAndShow(t *testing.T) {
	w := newWorld(t)
	validate := func(path string) result { return runBin(t, "", nil, "paraphe", "admin", "policy", "validate", path) }
	if r := validate(w.srv.Policy); r.code != 0 || !strings.Contains(r.stdout, "is a valid machine policy") || !strings.Contains(r.stdout, w.srv.URL) {
		t.Fatalf("valid: %+v", r)
	}
	if r := validate("../../installer/linux/policy.json"); r.code != explain.ExitUnconfigured || !strings.Contains(r.stderr, "does not name a certification authority yet") {
		t.Fatalf("the package's template: %+v", r)
	}
	bad := testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) { p["key_stores"] = []string{"file"} })
	if r := validate(bad); r.code != explain.ExitNoPolicy || !strings.Contains(r.stderr, "key_stores[0]") {
		t.Fatalf("invalid: %+v", r)
	}
	if r := validate(filepath.Join(t.TempDir(), "none.json")); r.code != explain.ExitNoPolicy || !strings.Contains(r.stderr, "none.json") {
		t.Fatalf("missing: %+v", r)
	}

	pol := testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) {
		p["proxy"] = "none"
		p["pkcs11"] = map[string]any{"token": "card-1"}
		delete(p, "pin_policy")
		delete(p, "renewal_warning_days")
	})
	env := []string{"PARAPHE_POLICY=" + pol}
	r := runBin(t, "", env, "paraphe", "admin", "policy", "show")
	if r.code != 0 || !strings.Contains(r.stdout, "(named by PARAPHE_POLICY)") {
		t.Fatalf("show: %+v", r)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n")[1:] {
		if f := strings.Fields(l); len(f) >= 3 {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	defaults := config.DefaultPolicy()
	for field, want := range map[string]string{
		"ca.url":                       w.srv.URL + " from the file",
		"proxy":                        "none from the file",
		"renewal_warning_days":         "30 default",
		"pin_policy.token.digits_only": "true default",
		"pkcs11.module":                defaults.PKCS11Module() + " default",
		"pkcs11.token":                 "card-1 from the file",
	} {
		if lines[field] != want {
			t.Errorf("show %s: %q, want %q", field, lines[field], want)
		}
	}
	// A proxy the policy lets users set, set in the user's settings: shown
	// as theirs.
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "settings.json"), []byte(`{"proxy": "http://proxy.example:3128"}`), 0o600)
	userPol := testenv.PolicyWith(t, pol, func(p map[string]any) { p["user_may"] = map[string]any{"proxy": true} })
	if r := runBin(t, "", []string{"PARAPHE_POLICY=" + userPol, "PARAPHE_HOME=" + home}, "paraphe", "admin", "policy", "show"); !regexp.MustCompile(`(?m)^\s*proxy\s+http://proxy\.example:3128\s+from the user's settings`).MatchString(r.stdout) {
		t.Errorf("show with a user's proxy: %+v", r)
	}
	r = runBin(t, "", env, "paraphe", "admin", "policy", "show", "--json")
	var shown struct {
		Path, From string
		Valid      bool
		Settings   []policySetting
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil || shown.Path != pol || shown.From != "env" || !shown.Valid || len(shown.Settings) < 10 {
		t.Fatalf("show --json: %v %+v", err, r)
	}
	// The template is shown, then said to need a CA.
	r = runBin(t, "", []string{"PARAPHE_POLICY=../../installer/linux/policy.json"}, "paraphe", "admin", "policy", "show")
	if r.code != explain.ExitUnconfigured || !strings.Contains(r.stdout, "key_stores") || !strings.Contains(r.stderr, "paraphe admin policy write --ca") {
		t.Fatalf("show the template: %+v", r)
	}
}

// admin check: 0 when all is well, 1 with warnings, 2 when Paraphe cannot
// work, for deployment scripts.
func TestAdminCheck(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	tok := testenv.NewToken(t, "check")
	pol := testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) { p["pkcs11"] = map[string]any{"module": tok.Module} })
	env := append([]string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + pol}, tok.Env...)
	check := func(env []string) result {
		return runBin(t, "", env, "paraphe", "admin", "check", "--timeout", "3s")
	}
	r := check(env)
	if r.code != 0 {
		t.Fatalf("healthy: %+v", r)
	}
	version := strings.TrimSpace(strings.TrimPrefix(runBin(t, "", nil, "paraphe", "--version").stdout, "paraphe "))
	for _, want := range []string{"Paraphe " + version + " is installed", "readable by all, writable by root only (-rw-r--r--)", "the PKCS#11 module loads (1 token(s) present)", "the keychain answers", "verified against the CA's root"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check lacks %q:\n%s", want, r.stdout)
		}
	}
	os.Chmod(pol, 0o666)
	if r := check(env); r.code != 1 || !strings.Contains(r.stdout, "users other than root can change the machine policy") || !strings.Contains(r.stdout, "chmod 644 "+pol) {
		t.Fatalf("writable policy: %+v", r)
	}
	os.Chmod(pol, 0o644)
	tokensOnly := testenv.PolicyWith(t, pol, func(p map[string]any) {
		p["key_stores"] = []string{"pkcs11"}
		p["pkcs11"] = map[string]any{"module": "/nonexistent/opensc-pkcs11.so"}
	})
	if r := check([]string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + tokensOnly}); r.code != 2 || !strings.Contains(r.stdout, "the PKCS#11 module cannot be loaded") || !strings.Contains(r.stdout, "OpenSC") {
		t.Fatalf("no module, tokens only: %+v", r)
	}
	r = check([]string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=../../installer/linux/policy.json"})
	if r.code != 2 || !strings.Contains(r.stdout, "it names no certification authority yet") || !strings.Contains(r.stdout, "set ca.url") {
		t.Fatalf("the package's template: %+v", r)
	}
	w.srv.Stop()
	if r := check(env); r.code != 2 || !strings.Contains(r.stdout, "refused") {
		t.Fatalf("CA down: %+v", r)
	}
}
