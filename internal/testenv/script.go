package testenv

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// RunScripts runs the transcripts in p.Dir (testscript's txtar files: see
// cmd/paraphe/testdata/README.md for the language) with the commands below
// added to p.Cmds, the condition [root] (the tests run as root), and each
// script given:
//
//	$WORK              its own folder, also $HOME
//	$PARAPHE_HOME      $WORK/home, its Paraphe folder
//	$PARAPHE_RUNTIME_DIR $WORK/run, its one-application-per-user folder
//	$PARAPHE_POLICY    $WORK/no-policy.json: no machine policy until a script names one
//	$PARAPHE_LANG      en
//	$REPO              the repository (for its assets and installer templates)
//	$SOFTHSM_MODULE    the SoftHSM2 PKCS#11 module
//
// and the Secret Service of MainWithSecretService when the package's
// TestMain started one. The commands:
//
//	require WHAT...            skip (fail in CI) unless each is there: "keychain" (the
//	                           Secret Service), "root" (the tests run as root) or a program
//	exits N PROGRAM ARGS...    run like exec; fail unless it exits with status N (N > 0)
//	grab NAME... [REGEXP]      set $NAME… to REGEXP's groups in the last standard output
//	                           (the last line without REGEXP), and $NAME_RE… to each
//	                           quoted as a regular expression (a generated password)
//	                           (no REGEXP: $NAME is its last non-empty line)
//	expand SRC DST             copy SRC to DST, replacing $VAR and ${VAR}
//	jsonedit SRC DST EDIT...   copy the JSON file SRC to DST (mode 0644) with each EDIT:
//	                           a.b=VALUE sets field b of a (VALUE as JSON, else a string),
//	                           -a.b deletes it
//	publicdir NAME             $NAME: a folder every user can enter, outside $WORK
//	perm MODE FILE...          fail unless each FILE's permission bits are MODE (octal,
//	                           as ls -l shows them: 0644 is -rw-r--r--)
//	ca start [-offline-root] [INIT FLAGS...]
//	                           paraphe-ca init, then serve on loopback: $CA (its folder),
//	                           $CA_URL, $CA_VALIDATION_URL, $CA_ADMIN_URL, $CA_PID;
//	                           -offline-root puts the root CA in $ROOT, which the server
//	                           cannot read; both get the script's SOFTHSM2_CONF and
//	                           PARAPHE_CA_PIN (a CA whose keys are on a token)
//	ca stop                    stop it (SIGTERM) and wait
//	ca log                     its log (standard error) as standard output
//	ca enroll                  enrol the test holder (Holder) with paraphe-ca enroll; $REF
//	ca issue [-renew] [-odd-serial] NAME
//	                           the test holder's certificate for a new key from the CA in
//	                           $CA, in this process: NAME.pem, NAME.key; $SERIAL as list
//	                           shows it; -renew renews it once (NAME.pem is the successor);
//	                           -odd-serial renews until openssl prints the serial zero-padded
//	exchange start [INIT FLAGS...]
//	                           paraphe-exchange init, then serve over HTTPS on 127.0.0.2 (not the
//	                           CA's host), mailing a real SMTP server in this process: $EXCHANGE
//	                           (its folder), $EXCHANGE_URL (https://127.0.0.2:PORT), $EXCHANGE_ROOT (the PEM root
//	                           its TLS certificate chains to: SSL_CERT_FILE=$EXCHANGE_ROOT trusts it);
//	                           init and serve get the script's SOFTHSM2_CONF and PARAPHE_EXCHANGE_PIN
//	exchange stop              stop it (SIGTERM) and wait
//	exchange log               its log (standard error) as standard output
//	exchange user --firm|--client EMAIL NAME PASSWORD [--manager LOGIN]
//	                           paraphe-exchange user add, then the invitation e-mail's link
//	                           followed over HTTPS to set PASSWORD (the web form, its CSRF
//	                           token and cookie); $CODE is the user code
//	exchange totp LOGIN PASSWORD
//	                           turn LOGIN's two-factor sign-in on in My profile, on the web:
//	                           $TOTP_KEY, for oathtool --totp -b
//	exchange mail TO           the last e-mail to TO (subject and body decoded) as standard output
//	token init LABEL           a SoftHSM2 token (user PIN 12345678, PUK 87654321) in the
//	                           script's own SoftHSM folder; sets SOFTHSM2_CONF
//	squid start [-basic-auth USER:PASSWORD] [-ntlm] [-deny URL]
//	                           a squid proxy on loopback: $PROXY
//	dante start                a SOCKS5 server on loopback: $PROXY
//	blackhole                  $BLACKHOLE, a host:port whose packets are dropped (root)
//	xvfb start                 a virtual X display: $DISPLAY
//	daemon start NAME REGEXP PROGRAM ARGS...
//	                           run PROGRAM in the background until a line of its
//	                           standard output matches REGEXP (what it printed so far is
//	                           then the standard output); it fails if PROGRAM ends first
//	daemon stop NAME           SIGTERM to it and what it started, then wait: its whole
//	                           output is the last output, and it fails unless PROGRAM
//	                           exits with status 0
//	postgres start             a PostgreSQL server (scripts/postgres.sh) with an empty
//	                           database: $PGURL (no password in it), $PG_PASSWORD_FILE
//	postgres psql ARGS...      psql on that database, with the password
//	totp NAME FILE [-next|-wrong]
//	                           $NAME: the one-time code of the otpauth URI in FILE now;
//	                           -next: the next one (a second login within 30 s);
//	                           -wrong: six digits that are no code accepted now
//
// Daemons stop when the script ends.
func RunScripts(t *testing.T, p testscript.Params) {
	t.Helper()
	testscript.Run(t, scriptParams(p))
}

// scriptParams is p with the commands, the condition and the setup of
// RunScripts.
func scriptParams(p testscript.Params) testscript.Params {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"require":   cmdRequire,
		"exits":     cmdExits,
		"grab":      cmdGrab,
		"expand":    cmdExpand,
		"jsonedit":  cmdJSONEdit,
		"publicdir": cmdPublicDir,
		"perm":      cmdPerm,
		"ca":        cmdCA,
		"token":     cmdToken,
		"squid":     cmdSquid,
		"dante":     cmdDante,
		"blackhole": cmdBlackhole,
		"xvfb":      cmdXvfb,
		"daemon":    cmdDaemon,
		"postgres":  cmdPostgres,
		"exchange":  cmdExchange,
		"totp":      cmdTOTP,
	}
	for name, cmd := range p.Cmds {
		cmds[name] = cmd
	}
	p.Cmds = cmds
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := scriptSetup(env); err != nil {
			return err
		}
		if setup != nil {
			return setup(env)
		}
		return nil
	}
	cond := p.Condition
	p.Condition = func(c string) (bool, error) {
		if c == "root" {
			return os.Geteuid() == 0, nil
		}
		if cond != nil {
			return cond(c)
		}
		return false, fmt.Errorf("unknown condition %q", c)
	}
	p.RequireExplicitExec = true
	p.RequireUniqueNames = true
	return p
}

// scriptState is what a script's commands keep between lines.
type scriptState struct {
	t        testing.TB // the script's own test
	ca       *CAProcess
	exchange *ExchangeProcess
	daemons  map[string]*scriptDaemon
	postgres *postgres.Server
}

type stateKey struct{}

func scriptSetup(env *testscript.Env) error {
	t, ok := env.T().(testing.TB)
	if !ok {
		return errors.New("testenv: scripts must run under go test")
	}
	env.Values[stateKey{}] = &scriptState{t: t, daemons: map[string]*scriptDaemon{}}
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	env.Setenv("HOME", env.WorkDir)
	env.Setenv("PARAPHE_HOME", filepath.Join(env.WorkDir, "home"))
	// The one-application-per-user folder (internal/instance): a script's
	// own, so that scripts running at once do not hand over to each other.
	env.Setenv("PARAPHE_RUNTIME_DIR", filepath.Join(env.WorkDir, "run"))
	env.Setenv("PARAPHE_POLICY", filepath.Join(env.WorkDir, "no-policy.json"))
	env.Setenv("PARAPHE_LANG", "en")
	env.Setenv("REPO", repo)
	env.Setenv("SOFTHSM_MODULE", SoftHSMModule)
	env.Setenv(quickKDFEnv, os.Getenv(quickKDFEnv)) // QuickKDFInShort
	if mainSecretService == nil {
		for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"} {
			env.Setenv(k, os.Getenv(k))
		}
	}
	return nil
}

// repoRoot is the folder of the module's go.mod, above the test's folder.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// scriptTB is the testing.TB the service starters get from a script
// command: failures fail the script's line, cleanups run when the script
// ends (before its $WORK is removed), temporary folders are in $WORK.
type scriptTB struct {
	testing.TB
	ts *testscript.TestScript
}

// ScriptTB is the testing.TB for what a script command starts (in a
// package's own commands): t.Fatal fails the script's line, t.Cleanup
// runs when the script ends.
func ScriptTB(ts *testscript.TestScript) testing.TB { return tb(ts) }

func tb(ts *testscript.TestScript) scriptTB {
	return scriptTB{TB: ts.Value(stateKey{}).(*scriptState).t, ts: ts}
}

func state(ts *testscript.TestScript) *scriptState { return ts.Value(stateKey{}).(*scriptState) }

func (s scriptTB) Helper()                         {}
func (s scriptTB) Fatal(args ...any)               { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptTB) Fatalf(format string, a ...any)  { s.ts.Fatalf(format, a...) }
func (s scriptTB) Error(args ...any)               { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptTB) Errorf(format string, a ...any)  { s.ts.Fatalf(format, a...) }
func (s scriptTB) FailNow()                        { s.ts.Fatalf("failed") }
func (s scriptTB) Log(args ...any)                 { s.ts.Logf("%s", fmt.Sprint(args...)) }
func (s scriptTB) Logf(format string, args ...any) { s.ts.Logf(format, args...) }
func (s scriptTB) Cleanup(f func())                { s.ts.Defer(f) }

func (s scriptTB) TempDir() string {
	dir, err := os.MkdirTemp(filepath.Join(s.ts.Getenv("WORK"), ".tmp"), "t")
	s.ts.Check(err)
	return dir
}

func cmdRequire(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: require keychain|root|PROGRAM...")
	}
	t := tb(ts)
	for _, what := range args {
		switch what {
		case "keychain":
			NeedSecretService(t)
		case "root":
			if os.Geteuid() != 0 {
				Missing(t, "the script runs programs as another user, which needs root")
			}
		default:
			Require(t, what)
		}
	}
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil || want <= 0 {
		ts.Fatalf("exits: the status must be a number above 0 (use exec for 0), not %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	var ee *exec.ExitError
	switch {
	case err == nil:
		ts.Fatalf("%s succeeded; want exit status %d", args[1], want)
	case !errors.As(err, &ee):
		ts.Fatalf("%s: %v", args[1], err)
	case ee.ExitCode() != want:
		ts.Fatalf("%s: exit status %d; want %d", args[1], ee.ExitCode(), want)
	}
}

func cmdGrab(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: grab NAME... [REGEXP]")
	}
	out := ts.ReadFile("stdout")
	if len(args) == 1 {
		line := LastLine(out)
		if line == "" {
			ts.Fatalf("grab %s: the standard output is empty", args[0])
		}
		setGrabbed(ts, args[0], line)
		return
	}
	names, pattern := args[:len(args)-1], args[len(args)-1]
	re, err := regexp.Compile("(?m)" + pattern)
	ts.Check(err)
	if re.NumSubexp() != len(names) {
		ts.Fatalf("grab: %d names for the %d groups of %q", len(names), re.NumSubexp(), pattern)
	}
	m := re.FindStringSubmatch(out)
	if m == nil {
		ts.Fatalf("grab: no match for %q in the standard output", pattern)
	}
	for i, name := range names {
		setGrabbed(ts, name, m[i+1])
	}
}

// setGrabbed sets $name to value, and $name_RE to value quoted as a
// regular expression, for stdout and stderr to look for it as it is.
func setGrabbed(ts *testscript.TestScript, name, value string) {
	ts.Setenv(name, value)
	ts.Setenv(name+"_RE", regexp.QuoteMeta(value))
}

func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	data := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(data), 0o644))
}

func cmdJSONEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: jsonedit SRC DST [a.b=VALUE | -a.b]...")
	}
	var doc map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &doc))
	for _, edit := range args[2:] {
		path, value, set := strings.Cut(edit, "=")
		if !set && !strings.HasPrefix(path, "-") {
			ts.Fatalf("jsonedit: %q is neither a.b=VALUE nor -a.b", edit)
		}
		keys := strings.Split(strings.TrimPrefix(path, "-"), ".")
		m := doc
		for _, k := range keys[:len(keys)-1] {
			sub, ok := m[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		last := keys[len(keys)-1]
		if !set {
			delete(m, last)
			continue
		}
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			v = value
		}
		m[last] = v
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	ts.Check(err)
	dst := ts.MkAbs(args[1])
	ts.Check(os.WriteFile(dst, append(data, '\n'), 0o644))
	ts.Check(os.Chmod(dst, 0o644)) // whatever the umask
}

func cmdPerm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: perm MODE FILE...")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	if err != nil || want > 0o777 {
		ts.Fatalf("perm: %q is no permission (octal, such as 0644)", args[0])
	}
	for _, name := range args[1:] {
		fi, err := os.Stat(ts.MkAbs(name))
		ts.Check(err)
		if got := fi.Mode().Perm(); got != os.FileMode(want) {
			ts.Fatalf("perm: %s is %v (%#o), want %v (%#o)", name, got, uint32(got), os.FileMode(want), want)
		}
	}
}

func cmdPublicDir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: publicdir NAME")
	}
	// $WORK is in a folder only this user can enter.
	dir, err := os.MkdirTemp("", "paraphe-public-")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	ts.Check(os.Chmod(dir, 0o755))
	ts.Setenv(args[0], dir)
}

// lookPath finds a program in the script's PATH.
func lookPath(ts *testscript.TestScript, name string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	ts.Fatalf("%s is not in the script's PATH", name)
	return ""
}

func cmdCA(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: ca start|stop|log|enroll|issue")
	}
	st := state(ts)
	running := func() *CAProcess {
		if st.ca == nil {
			ts.Fatalf("ca %s: no CA started (ca start)", args[0])
		}
		return st.ca
	}
	switch args[0] {
	case "start":
		if st.ca != nil {
			ts.Fatalf("ca start: a CA is running already")
		}
		st.ca = startScriptCA(ts, args[1:])
	case "stop":
		running().Stop()
	case "log":
		fmt.Fprint(ts.Stdout(), running().Log.String())
	case "enroll":
		cmd := exec.Command(lookPath(ts, "paraphe-ca"), "enroll", "--dir", ts.Getenv("CA"))
		cmd.Env = scriptEnv(ts)
		cmd.Stdin = strings.NewReader(HolderJSON())
		out, err := cmd.Output()
		if err != nil {
			ts.Fatalf("paraphe-ca enroll: %v\n%s", err, out)
		}
		ts.Setenv("REF", LastLine(string(out)))
	case "issue":
		issueScriptCert(ts, args[1:])
	default:
		ts.Fatalf("ca: unknown subcommand %q", args[0])
	}
}

// scriptEnv is the environment the script's programs get.
func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "PARAPHE_LANG", "TMPDIR"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

func startScriptCA(ts *testscript.TestScript, args []string) *CAProcess {
	t := tb(ts)
	bin := lookPath(ts, "paraphe-ca")
	o := CAProcessOptions{Dir: ts.MkAbs("ca"), InitArgs: args}
	for _, k := range []string{"SOFTHSM2_CONF", "PARAPHE_CA_PIN"} {
		if v := ts.Getenv(k); v != "" {
			o.Env = append(o.Env, k+"="+v)
		}
	}
	var root string
	if len(args) > 0 && args[0] == "-offline-root" {
		o.InitArgs = args[1:]
		o.Dir, root = offlineRoot(ts, &o)
	}
	p := StartCAProcessWith(t, bin, o)
	ts.Setenv("CA", p.Dir)
	ts.Setenv("CA_URL", p.URL)
	ts.Setenv("CA_VALIDATION_URL", p.ValidationURL)
	ts.Setenv("CA_ADMIN_URL", p.AdminURL)
	ts.Setenv("CA_PID", strconv.Itoa(p.PID()))
	if root != "" {
		ts.Setenv("ROOT", root)
	}
	return p
}

// offlineRoot prepares a CA whose root folder lies beside its own, in a
// folder another user can enter, so that serve runs without the root key:
// as nobody when the tests run as root (the server's folder is nobody's,
// the root's stays root's, 0700), or with the root folder unreadable.
func offlineRoot(ts *testscript.TestScript, o *CAProcessOptions) (dir, root string) {
	base, err := os.MkdirTemp("", "paraphe-ca-root-")
	ts.Check(err)
	ts.Check(os.Chmod(base, 0o755))
	dir, root = filepath.Join(base, "ca"), filepath.Join(base, "root")
	ts.Defer(func() {
		os.Chmod(root, 0o700)
		os.RemoveAll(base)
	})
	asRoot := os.Geteuid() == 0
	if asRoot {
		if _, err := exec.LookPath("setpriv"); err != nil {
			Missing(tb(ts), "setpriv is not installed")
		}
		o.Wrapper = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	}
	o.InitArgs = append([]string{"--root-dir", root}, o.InitArgs...)
	o.Prepare = func(dir string) {
		if _, err := os.Stat(filepath.Join(root, "root.key")); err != nil {
			ts.Fatalf("init left no root key in --root-dir: %v", err)
		}
		if !asRoot {
			ts.Check(os.Chmod(root, 0))
			return
		}
		ts.Check(filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Lchown(p, 65534, 65534)
			}
			return err
		}))
	}
	return dir, root
}

func issueScriptCert(ts *testscript.TestScript, args []string) {
	fs := flag.NewFlagSet("ca issue", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	renew := fs.Bool("renew", false, "")
	odd := fs.Bool("odd-serial", false, "")
	if fs.Parse(args) != nil || fs.NArg() != 1 {
		ts.Fatalf("usage: ca issue [-renew] [-odd-serial] NAME")
	}
	t := tb(ts)
	a, err := ca.Open(ts.Getenv("CA"))
	ts.Check(err)
	defer a.Close()
	newKey := func() *ecdsa.PrivateKey {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ts.Check(err)
		return key
	}
	key := newKey()
	cert := Issue(t, a, key)
	if *renew {
		cert, err = a.Reenroll(t.Context(), cert, CSR(t, key), "")
		ts.Check(err)
	}
	// About one serial in eight has an odd length in hex, which openssl
	// prints with a 0 in front: 200 renewals all even would happen once in
	// 10^10 runs.
	for i := 0; *odd && len(fmt.Sprintf("%x", cert.SerialNumber))%2 == 0; i++ {
		if i == 200 {
			ts.Fatalf("ca issue: no serial number of odd length in 200 renewals")
		}
		key = newKey()
		cert, err = a.Reenroll(t.Context(), cert, CSR(t, key), "")
		ts.Check(err)
	}
	writeCertAndKey(ts, fs.Arg(0), cert, key)
	ts.Setenv("SERIAL", fmt.Sprintf("%x", cert.SerialNumber))
}

func writeCertAndKey(ts *testscript.TestScript, name string, cert *x509.Certificate, key *ecdsa.PrivateKey) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	ts.Check(os.WriteFile(ts.MkAbs(name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644))
}

func cmdToken(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || args[0] != "init" {
		ts.Fatalf("usage: token init LABEL")
	}
	tok := NewTokenIn(tb(ts), filepath.Join(ts.Getenv("WORK"), "softhsm"), args[1])
	ts.Setenv("SOFTHSM2_CONF", tok.Conf)
}

func cmdSquid(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("squid start", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o SquidOptions
	fs.StringVar(&o.BasicAuth, "basic-auth", "", "")
	fs.BoolVar(&o.NTLM, "ntlm", false, "")
	deny := fs.String("deny", "", "")
	if neg || len(args) == 0 || args[0] != "start" || fs.Parse(args[1:]) != nil || fs.NArg() != 0 {
		ts.Fatalf("usage: squid start [-basic-auth USER:PASSWORD] [-ntlm] [-deny URL]")
	}
	if *deny != "" {
		u, err := url.Parse(*deny)
		ts.Check(err)
		_, port, err := net.SplitHostPort(u.Host)
		ts.Check(err)
		o.DenyPort, err = strconv.Atoi(port)
		ts.Check(err)
	}
	ts.Setenv("PROXY", StartSquid(tb(ts), o).URL)
}

func cmdDante(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || args[0] != "start" {
		ts.Fatalf("usage: dante start")
	}
	ts.Setenv("PROXY", StartDante(tb(ts)).URL)
}

func cmdBlackhole(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: blackhole")
	}
	ts.Setenv("BLACKHOLE", Blackhole(tb(ts)))
}

func cmdXvfb(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || args[0] != "start" {
		ts.Fatalf("usage: xvfb start")
	}
	ts.Setenv("DISPLAY", StartXvfb(tb(ts)))
}

// scriptDaemon is a program a script runs in the background (daemon start).
type scriptDaemon struct {
	cmd    *exec.Cmd
	stdout Buffer // all it wrote, as it comes
	stderr Buffer
	done   chan struct{} // closed once its standard output is read to its end
}

func cmdDaemon(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || (args[0] == "start" && len(args) < 4) || (args[0] == "stop" && len(args) != 2) {
		ts.Fatalf("usage: daemon start NAME REGEXP PROGRAM [ARGS...] | daemon stop NAME")
	}
	st := state(ts)
	name := args[1]
	switch args[0] {
	case "start":
		if st.daemons[name] != nil {
			ts.Fatalf("daemon start: %s runs already", name)
		}
		re, err := regexp.Compile(args[2])
		ts.Check(err)
		st.daemons[name] = startDaemonScript(ts, re, args[3], args[4:])
	case "stop":
		d := st.daemons[name]
		if d == nil {
			ts.Fatalf("daemon stop: no daemon %s", name)
		}
		delete(st.daemons, name)
		terminateGroup(d.cmd)
		<-d.done
		err := d.cmd.Wait()
		fmt.Fprint(ts.Stdout(), d.stdout.String())
		fmt.Fprint(ts.Stderr(), d.stderr.String())
		if err != nil {
			ts.Fatalf("%s, stopped: %v", name, err)
		}
	default:
		ts.Fatalf("daemon: unknown subcommand %q", args[0])
	}
}

func startDaemonScript(ts *testscript.TestScript, ready *regexp.Regexp, prog string, args []string) *scriptDaemon {
	// The program gets the script's environment, which only a program the
	// script runs can see whole.
	ts.Check(ts.Exec("env", "-0"))
	env := strings.Split(strings.TrimSuffix(ts.ReadFile("stdout"), "\x00"), "\x00")
	if filepath.Base(prog) == prog {
		prog = lookPath(ts, prog)
	}
	d := &scriptDaemon{cmd: exec.Command(prog, args...), done: make(chan struct{})}
	d.cmd.Env, d.cmd.Dir, d.cmd.Stderr = env, ts.MkAbs("."), &d.stderr
	ownGroup(d.cmd)
	out, err := d.cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(d.cmd.Start())
	ts.Defer(func() {
		if d.cmd.ProcessState == nil {
			killGroup(d.cmd)
			<-d.done
			d.cmd.Wait()
		}
	})
	matched := make(chan bool, 1)
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			d.stdout.Write([]byte(sc.Text() + "\n"))
			if !found && ready.MatchString(sc.Text()) {
				found = true
				matched <- true
			}
		}
		if !found {
			matched <- false
		}
	}()
	select {
	case ok := <-matched:
		fmt.Fprint(ts.Stdout(), d.stdout.String())
		fmt.Fprint(ts.Stderr(), d.stderr.String())
		if !ok {
			ts.Fatalf("%s ended before printing a line that matches %q", filepath.Base(prog), ready)
		}
	case <-time.After(60 * time.Second):
		ts.Fatalf("%s printed no line that matches %q in 60 s", filepath.Base(prog), ready)
	}
	return d
}
