package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	_ "modernc.org/sqlite"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// These tests drive the real binaries: paraphe against a paraphe-ca serve
// process over HTTPS, with keys in a real Secret Service keychain.

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "paraphe-bin-")
	if err != nil {
		panic(err)
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/paraphe/paraphe/cmd/paraphe", "github.com/paraphe/paraphe/cmd/paraphe-ca")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	binDir = dir
	code := testenv.MainWithSecretService(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// runBin runs a binary with env added to this process's environment.
func runBin(t *testing.T, stdin string, env []string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Env = append(append(os.Environ(), "PARAPHE_LANG=en"), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// world is a CA folder with a running server and a holder's home.
type world struct {
	caDir string
	srv   *testenv.CAProcess
	home  string
	env   []string
}

func newWorld(t *testing.T) *world { return newWorldWith(t) }

// newWorldWith passes initArgs to paraphe-ca init.
func newWorldWith(t *testing.T, initArgs ...string) *world {
	t.Helper()
	w := &world{home: filepath.Join(t.TempDir(), "home")}
	w.srv = testenv.StartCAProcess(t, filepath.Join(binDir, "paraphe-ca"), initArgs...)
	w.caDir = w.srv.Dir
	w.env = []string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + w.srv.Policy}
	return w
}

func (w *world) enroll(t *testing.T) string {
	t.Helper()
	r := runBin(t, testenv.HolderJSON(), nil, "paraphe-ca", "enroll", "--dir", w.caDir)
	if r.code != 0 {
		t.Fatalf("enroll: %+v", r)
	}
	return testenv.LastLine(r.stdout)
}

func (w *world) answersFile(t *testing.T, answers ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "answers.txt")
	os.WriteFile(path, []byte(strings.Join(answers, "\n")+"\n"), 0o600)
	return path
}

const testPIN = "Corr3ct-Horse!"

func (w *world) activate(t *testing.T, ref, answers string, env ...string) result {
	t.Helper()
	return runBin(t, "", append(append([]string{"PARAPHE_PIN=" + testPIN}, w.env...), env...),
		"paraphe", "activate", "--ref", ref, "--answers-file", answers)
}

func TestActivateEndToEnd(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "openssl")
	w := newWorld(t)
	ref := w.enroll(t)
	if len(ref) != 19 {
		t.Fatalf("reference code %q", ref)
	}
	r := w.activate(t, strings.ToLower(ref), w.answersFile(t, testenv.Answers...))
	if r.code != 0 || !strings.Contains(r.stdout, "Certificate activated: Marie Dupont, Notaire, member no. 75-1234") {
		t.Fatalf("activate: %+v", r)
	}

	r = runBin(t, "", w.env, "paraphe", "certs", "--json")
	var certs []struct {
		ID, Name, Title, Store string
		MemberNumber           string `json:"member_number"`
		DaysLeft               int    `json:"days_left"`
		Default                bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &certs); err != nil || len(certs) != 1 {
		t.Fatalf("certs --json: %v %+v", err, r)
	}
	c := certs[0]
	if c.Title != "Notaire" || c.MemberNumber != "75-1234" || c.Store != "keychain" || !c.Default || c.DaysLeft < 1000 {
		t.Fatalf("certificate %+v", c)
	}

	// openssl agrees that the stored chain is sound.
	chain, err := os.ReadFile(filepath.Join(w.home, "keys", c.ID+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.SplitAfter(string(chain), "-----END CERTIFICATE-----\n")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "leaf.pem"), []byte(blocks[0]), 0o644)
	os.WriteFile(filepath.Join(dir, "issuing.pem"), []byte(blocks[1]), 0o644)
	out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(w.caDir, "root.pem"),
		"-untrusted", filepath.Join(dir, "issuing.pem"), filepath.Join(dir, "leaf.pem")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "leaf.pem: OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}

	// The table lists it too, and the CA's list shows the code used.
	if r := runBin(t, "", w.env, "paraphe", "certs"); !strings.Contains(r.stdout, "75-1234") {
		t.Fatalf("certs: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe-ca", "list", "--dir", w.caDir); !strings.Contains(r.stdout, "used") || strings.Contains(r.stdout, ref) {
		t.Fatalf("paraphe-ca list (the code must be redacted): %+v", r)
	}

	// Nothing secret reached either side's output or the server log.
	w.srv.Stop()
	logs := w.srv.Log.String() + r.stdout + r.stderr
	for _, secret := range append([]string{testPIN, ref, "PRIVATE KEY"}, "Montréal", "montreal", "Jules") {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret (%q) appears in the logs", secret)
		}
	}
	if !strings.Contains(w.srv.Log.String(), `"path":"/.well-known/est/simpleenroll","status":200`) {
		t.Fatalf("server log lacks the enrolment line:\n%s", w.srv.Log.String())
	}
}

func TestRefusalsHaveDistinctMessagesAndCodes(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	wrong := w.answersFile(t, "paris", "medor", "victor hugo")
	right := w.answersFile(t, testenv.Answers...)

	// Five wrong answer sets lock the code, counting down.
	ref := w.enroll(t)
	for left := 4; left >= 1; left-- {
		r := w.activate(t, ref, wrong)
		want := "do not match what the certification authority has on record (" + string(rune('0'+left)) + " attempts left)"
		if r.code != explain.ExitWrongAnswers || !strings.Contains(r.stderr, want) {
			t.Fatalf("attempt with %d left: %+v", left, r)
		}
	}
	r := w.activate(t, ref, wrong)
	if r.code != explain.ExitLockedRef || !strings.Contains(r.stderr, "this was the last attempt") {
		t.Fatalf("fifth wrong attempt: %+v", r)
	}
	r = w.activate(t, ref, right)
	if r.code != explain.ExitLockedRef || !strings.Contains(r.stderr, "locked after too many wrong answers") {
		t.Fatalf("right answers on a locked code: %+v", r)
	}

	// A used code cannot enrol again.
	ref = w.enroll(t)
	if r := w.activate(t, ref, right); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	r = w.activate(t, ref, right)
	if r.code != explain.ExitUsedRef || !strings.Contains(r.stderr, "already been used") {
		t.Fatalf("used code: %+v", r)
	}

	// An expired code is refused.
	ref = w.enroll(t)
	expire(t, w.caDir, ref)
	r = w.activate(t, ref, right)
	if r.code != explain.ExitExpiredRef || !strings.Contains(r.stderr, "has expired") || !strings.Contains(r.stderr, "new reference code") {
		t.Fatalf("expired code: %+v", r)
	}
	// … until the operator reissues it.
	r = runBin(t, "", nil, "paraphe-ca", "reissue", "--dir", w.caDir, ref)
	if r.code != 0 {
		t.Fatalf("reissue: %+v", r)
	}
	if r := w.activate(t, testenv.LastLine(r.stdout), right); r.code != 0 {
		t.Fatalf("activate with reissued code: %+v", r)
	}

	// Unknown and mistyped codes.
	r = w.activate(t, "ABCD-EFGH-JKMN-PQRS", right)
	if r.code != explain.ExitUnknownRef || !strings.Contains(r.stderr, "typing mistake") {
		t.Fatalf("mistyped code: %+v", r)
	}
	r = w.activate(t, "short", right)
	if r.code != explain.ExitUnknownRef || !strings.Contains(r.stderr, "this is not a reference code") {
		t.Fatalf("malformed code: %+v", r)
	}
}

func expire(t *testing.T, caDir, ref string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(caDir, "ca.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE refs SET expires = ? WHERE code = ?`, time.Now().Add(-time.Minute).Unix(), ref); err != nil {
		t.Fatal(err)
	}
}

func TestEnvironmentProblems(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	ref := w.enroll(t)
	right := w.answersFile(t, testenv.Answers...)

	// No policy installed.
	r := runBin(t, "", []string{"PARAPHE_HOME=" + w.home, "PARAPHE_POLICY=" + filepath.Join(t.TempDir(), "none.json")},
		"paraphe", "activate", "--ref", ref, "--answers-file", right)
	if r.code != explain.ExitNoPolicy || !strings.Contains(r.stderr, "no machine policy") || !strings.Contains(r.stderr, "make demo") {
		t.Fatalf("no policy: %+v", r)
	}

	// A policy with an error names the field.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"version":1,"ca":{"url":"http://ca.example","anchors":["00"]}}`), 0o644)
	r = runBin(t, "", []string{"PARAPHE_POLICY=" + bad}, "paraphe", "activate", "--ref", ref)
	if r.code != explain.ExitNoPolicy || !strings.Contains(r.stderr, "ca.url must be an https:// address") {
		t.Fatalf("invalid policy: %+v", r)
	}

	// The CA is down.
	pol := testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) { p["ca"].(map[string]any)["url"] = "https://127.0.0.1:1" })
	r = w.activate(t, ref, right, "PARAPHE_POLICY="+pol)
	if r.code != explain.ExitUnreachable || !strings.Contains(r.stderr, "cannot be reached") || !strings.Contains(r.stderr, "proxy") {
		t.Fatalf("unreachable: %+v", r)
	}

	// Someone in between presents another chain (the policy pins another root).
	pol = testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) {
		p["ca"].(map[string]any)["anchors"] = []string{strings.Repeat("ab", 32)}
	})
	r = w.activate(t, ref, right, "PARAPHE_POLICY="+pol)
	if r.code != explain.ExitTLSAnchor || !strings.Contains(r.stderr, `"CN=Paraphe Demo CA Root`) || !strings.Contains(r.stderr, "TLS inspection") {
		t.Fatalf("anchor mismatch: %+v", r)
	}

	// No keychain: the holder learns before spending an attempt.
	r = w.activate(t, ref, right, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	if r.code != explain.ExitKeychain || !strings.Contains(r.stderr, "keychain is not available") || !strings.Contains(r.stderr, "gnome-keyring") {
		t.Fatalf("no keychain: %+v", r)
	}

	// A PIN that breaks the policy is refused before contacting the CA.
	r = runBin(t, "", append([]string{"PARAPHE_PIN=password"}, w.env...), "paraphe", "activate", "--ref", ref, "--answers-file", right)
	if r.code != explain.ExitPINPolicy || !strings.Contains(r.stderr, "upper-case") {
		t.Fatalf("weak PIN: %+v", r)
	}

	// Tokens: a module that is not there, no token in it, several tokens.
	pol = testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) { p["pkcs11"] = map[string]any{"module": "/nonexistent/opensc-pkcs11.so"} })
	r = runBin(t, "", []string{"PARAPHE_POLICY=" + pol, "PARAPHE_PIN=12345678", "PARAPHE_HOME=" + w.home}, "paraphe", "activate", "--store", "pkcs11", "--ref", ref, "--answers-file", right)
	if r.code != explain.ExitToken || !strings.Contains(r.stderr, "module cannot be loaded") || !strings.Contains(r.stderr, "OpenSC") {
		t.Fatalf("missing module: %+v", r)
	}
	first, second := testenv.NewToken(t, "one"), testenv.NewToken(t, "two")
	pol = testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) { p["pkcs11"] = map[string]any{"module": first.Module} })
	r = runBin(t, "", append([]string{"PARAPHE_POLICY=" + pol, "PARAPHE_PIN=12345678", "PARAPHE_HOME=" + w.home}, first.Env...), "paraphe", "activate", "--store", "pkcs11", "--ref", ref, "--answers-file", right)
	if r.code != explain.ExitUsage || !strings.Contains(r.stderr, first.Label) || !strings.Contains(r.stderr, second.Label) || !strings.Contains(r.stderr, "--token") {
		t.Fatalf("two tokens, none named: %+v", r)
	}
	r = runBin(t, "", append([]string{"PARAPHE_POLICY=" + pol, "PARAPHE_PIN=00000000", "PARAPHE_HOME=" + w.home}, first.Env...), "paraphe", "activate", "--store", "pkcs11", "--token", first.Label, "--ref", ref, "--answers-file", right)
	if r.code != explain.ExitWrongPIN {
		t.Fatalf("wrong token PIN before contacting the CA: %+v", r)
	}

	// None of this spent an attempt: the code still has all five.
	if r := runBin(t, "", nil, "paraphe-ca", "list", "--dir", w.caDir, "--json"); !strings.Contains(r.stdout, `"failures": 0`) {
		t.Fatalf("an attempt was spent: %s", r.stdout)
	}
	if r := w.activate(t, ref, right); r.code != 0 {
		t.Fatalf("activate after the problems: %+v", r)
	}
}

func TestLanguages(t *testing.T) {
	for lang, want := range map[string]string{"fr": "code de référence", "it": "codice di riferimento", "en": "reference code"} {
		r := runBin(t, "", []string{"PARAPHE_LANG=" + lang, "PARAPHE_POLICY=/nonexistent", "PARAPHE_HOME=" + t.TempDir()}, "paraphe", "activate", "--ref", "x")
		if r.code != explain.ExitNoPolicy {
			t.Fatalf("%s: %+v", lang, r)
		}
		if r := runBin(t, "", []string{"PARAPHE_LANG=" + lang, "PARAPHE_HOME=" + t.TempDir()}, "paraphe", "help"); !strings.Contains(strings.ToLower(r.stdout), want) {
			t.Errorf("%s usage lacks %q:\n%s", lang, want, r.stdout)
		}
	}
}

func TestUsage(t *testing.T) {
	if r := runBin(t, "", []string{"PARAPHE_HOME=" + t.TempDir()}, "paraphe", "--help"); r.code != 0 || !strings.Contains(r.stdout, "paraphe activate") {
		t.Fatalf("--help: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe", "frobnicate"); r.code != explain.ExitUsage {
		t.Fatalf("unknown command: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe", "activate", "1234"); r.code != explain.ExitUsage || !strings.Contains(r.stderr, "never given as arguments") {
		t.Fatalf("PIN as argument: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe", "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "paraphe ") {
		t.Fatalf("version: %+v", r)
	}
}

// The prompts: code, answers and a new PIN read from standard input, a
// PIN breaking the policy and a mistyped confirmation asked again.
func TestActivatePrompts(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	ref := w.enroll(t)
	input := strings.Join(append(append([]string{ref}, testenv.Answers...),
		"short", "Corr3ct-Horse!", "Corr3ct-Horse?", "Corr3ct-Horse!", "Corr3ct-Horse!"), "\n") + "\n"
	r := runBin(t, input, w.env, "paraphe", "activate")
	if r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	for _, want := range []string{"Reference code:", "Ville de naissance ?", "5 attempts left", "the PIN is too short", "the two PINs differ", "New PIN again:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("prompts lack %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "Certificate activated") {
		t.Fatalf("stdout: %s", r.stdout)
	}
	// Three bad PINs end the command; the code is not spent.
	ref = w.enroll(t)
	input = strings.Join(append(append([]string{ref}, testenv.Answers...), "a", "b", "c"), "\n") + "\n"
	if r := runBin(t, input, w.env, "paraphe", "activate"); r.code != explain.ExitPINPolicy {
		t.Fatalf("three bad PINs: %+v", r)
	}
	if r := w.activate(t, ref, w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("the code was spent by a PIN problem: %+v", r)
	}
}

func TestDoctor(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	r := runBin(t, "", w.env, "paraphe", "doctor", "--timeout", "3s")
	if r.code != 0 || !strings.Contains(r.stdout, "can reach the certification authority") || !strings.Contains(r.stdout, "verified against the CA's root") {
		t.Fatalf("healthy: %+v", r)
	}
	r = runBin(t, "", w.env, "paraphe", "doctor", "--json")
	var rep struct {
		Version  int
		Verdict  string
		Findings []struct{ Check, Severity string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Version != 1 || rep.Verdict != "works" || len(rep.Findings) < 8 {
		t.Fatalf("json: %v %+v", err, r)
	}
	w.srv.Stop()
	page := filepath.Join(t.TempDir(), "report.html")
	r = runBin(t, "", w.env, "paraphe", "doctor", "--timeout", "3s", "--html", page)
	if r.code != 2 || !strings.Contains(r.stdout, "Most likely cause: Connection: refused") || !strings.Contains(r.stdout, "What to do:") {
		t.Fatalf("CA down: %+v", r)
	}
	// The page is whole, self-contained, and says the same.
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var external []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data + " ")
		}
		for _, a := range n.Attr {
			if (a.Key == "src" || a.Key == "href") && a.Val != "" {
				external = append(external, a.Val)
			}
		}
		if n.Type == html.ElementNode && n.Data == "script" {
			external = append(external, "<script>")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, want := range []string{"Paraphe connectivity report", "cannot work with the certification authority", "refused", "What to do"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if len(external) > 0 {
		t.Errorf("the page is not self-contained: %v", external)
	}
	if os.Getenv("PARAPHE_KEEP_REPORT") != "" {
		os.WriteFile(os.Getenv("PARAPHE_KEEP_REPORT"), data, 0o644)
	}
}

// Activation through a proxy that wants Basic credentials: without them the
// doctor names the cause; "paraphe proxy login" keeps them in the keychain,
// and activation then works through the proxy.
func TestActivateThroughAuthenticatingProxy(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "squid")
	w := newWorld(t)
	sq := testenv.StartSquid(t, testenv.SquidOptions{BasicAuth: "alice:s3cret"})
	pol := testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) { p["proxy"] = sq.URL })
	env := append(append([]string{}, w.env...), "PARAPHE_POLICY="+pol)
	if r := runBin(t, "", env, "paraphe", "doctor", "--timeout", "3s"); r.code != 2 || !strings.Contains(r.stdout, "the proxy requires authentication (Basic)") {
		t.Fatalf("doctor without credentials: %+v", r)
	}
	// A keychain that cannot be read is not "no credentials".
	noBus := append(append([]string{}, env...), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	if r := runBin(t, "", noBus, "paraphe", "doctor", "--timeout", "3s"); r.code != 2 || !strings.Contains(r.stdout, "the keychain holding its credentials cannot be read") {
		t.Fatalf("doctor without a keychain: %+v", r)
	}
	if r := runBin(t, "", append([]string{"PARAPHE_PROXY_PASSWORD=s3cret"}, env...), "paraphe", "proxy", "login", "--user", "alice"); r.code != 0 {
		t.Fatalf("proxy login: %+v", r)
	}
	defer runBin(t, "", env, "paraphe", "proxy", "logout")
	if r := runBin(t, "", env, "paraphe", "doctor", "--timeout", "3s"); r.code != 0 {
		t.Fatalf("doctor with credentials: %+v", r)
	}
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...), "PARAPHE_POLICY="+pol); r.code != 0 {
		t.Fatalf("activation through the proxy: %+v", r)
	}
}

// The onboarding guides' "suite not installed / no admin rights": a copy
// of paraphe in a user's folder, run by a user who is not an administrator,
// with no machine policy. The doctor's top finding says so and that IT must
// install it.
func TestDoctorNotInstalledNoAdmin(t *testing.T) {
	testenv.Require(t, "setpriv")
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the copy as another user")
	}
	home, err := os.MkdirTemp("", "paraphe-user-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	os.MkdirAll(filepath.Join(home, "bin"), 0o755)
	os.Chmod(home, 0o755)
	exe := filepath.Join(home, "bin", "paraphe")
	data, _ := os.ReadFile(filepath.Join(binDir, "paraphe"))
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	exec.Command("chown", "-R", "nobody:nogroup", home).Run()
	cmd := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", exe, "doctor", "--json", "--timeout", "2s")
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "PARAPHE_LANG=en", "PARAPHE_HOME=" + filepath.Join(home, ".paraphe"),
		"PARAPHE_POLICY=" + filepath.Join(home, "no-policy.json")}
	out, err := cmd.Output()
	var rep struct {
		Verdict string
		Cause   struct {
			Code, Fix string
			Details   map[string]string
		}
	}
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		t.Fatalf("%v %v\n%s", err, jerr, out)
	}
	if rep.Verdict != "blocked" || rep.Cause.Code != "not_installed" || rep.Cause.Fix != "ask_it_install" ||
		rep.Cause.Details["admin"] != "false" || rep.Cause.Details["install"] != "user" {
		t.Fatalf("%+v", rep)
	}
}
