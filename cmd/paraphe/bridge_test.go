package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// cmdBridge runs "paraphe bridge" in the background on a loopback port of
// its own, handed over as systemd would (LISTEN_FDS=1), with the script's
// environment and no terminal.
//
//	bridge start [ARGS]  sets $BRIDGE_URL once it prints where it listens
//	                (ARGS after "paraphe bridge": --desktop)
//	bridge log RE   waits (60 s at most) until its log matches RE
//	bridge stop     SIGTERM; it must end with status 0; its standard
//	                error (the log) becomes the command's
func cmdBridge(ts *testscript.TestScript, neg bool, args []string) {
	h := ts.Value(bridgeKey{}).(*bridgeHolder)
	switch {
	case !neg && len(args) >= 1 && args[0] == "start":
		if h.cmd != nil {
			ts.Fatalf("bridge start: it runs already")
		}
		startBridge(ts, h, args[1:])
	case !neg && len(args) == 2 && args[0] == "log":
		if h.cmd == nil {
			ts.Fatalf("bridge log: no bridge runs")
		}
		if !h.stderr.WaitFor(regexp.MustCompile(args[1]), 60*time.Second) {
			ts.Fatalf("bridge log: nothing matches %s in 60 s:\n%s", args[1], h.stderr.String())
		}
	case !neg && len(args) == 1 && args[0] == "stop":
		if h.cmd == nil {
			ts.Fatalf("bridge stop: no bridge runs")
		}
		h.cmd.Process.Signal(syscall.SIGTERM)
		<-h.done
		err := h.cmd.Wait()
		fmt.Fprint(ts.Stderr(), h.stderr.String())
		h.cmd = nil
		if err != nil {
			ts.Fatalf("paraphe bridge, stopped: %v", err)
		}
	default:
		ts.Fatalf("usage: bridge start [ARGS]|log RE|stop")
	}
}

// cmdFreePort sets $NAME to a loopback port free now (freeport NAME): a
// policy's bridge_port for a journey whose bridge listens itself.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport NAME")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Setenv(args[0], fmt.Sprint(l.Addr().(*net.TCPAddr).Port))
	l.Close()
}

type bridgeKey struct{}

type bridgeHolder struct {
	cmd    *exec.Cmd
	stderr testenv.Buffer
	done   chan struct{}
}

func startBridge(ts *testscript.TestScript, h *bridgeHolder, args []string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	f, err := l.(*net.TCPListener).File()
	l.Close()
	ts.Check(err)
	defer f.Close()
	ts.Check(ts.Exec("env", "-0"))
	env := strings.Split(strings.TrimSuffix(ts.ReadFile("stdout"), "\x00"), "\x00")
	self, err := os.Executable()
	ts.Check(err)
	h.stderr = testenv.Buffer{}
	h.done = make(chan struct{})
	h.cmd = exec.Command(self, append([]string{"bridge"}, args...)...)
	h.cmd.Args[0] = "paraphe" // testscript.Main runs main under that name
	h.cmd.Env = append(env, "LISTEN_FDS=1")
	h.cmd.Dir = ts.MkAbs(".")
	h.cmd.ExtraFiles = []*os.File{f}
	h.cmd.Stderr = &h.stderr
	out, err := h.cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(h.cmd.Start())
	ts.Defer(func() {
		if h.cmd != nil {
			h.cmd.Process.Kill()
			<-h.done
			h.cmd.Wait()
		}
	})
	ready := make(chan string, 1)
	go func() {
		defer close(h.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ready <- sc.Text()
		}
		close(ready)
	}()
	select {
	case line, ok := <-ready:
		if !ok || !strings.Contains(line, "http://"+l.Addr().String()) {
			ts.Fatalf("paraphe bridge did not start: %q\n%s", line, h.stderr.String())
		}
		fmt.Fprintln(ts.Stdout(), line)
	case <-time.After(60 * time.Second):
		ts.Fatalf("paraphe bridge said nothing in 60 s\n%s", h.stderr.String())
	}
	ts.Setenv("BRIDGE_URL", "http://"+l.Addr().String())
}

// The terminal's questions, answered as a holder would type them: the
// transcripts run without a terminal, where every request is refused.
func TestTerminalConsent(t *testing.T) {
	testenv.NeedSecretService(t)
	c := testenv.StartCA(t, ca.InitOptions{})
	t.Setenv("PARAPHE_HOME", t.TempDir())
	ks, err := local.Keychain(nil)
	if err != nil {
		t.Fatal(err)
	}
	marie := activate(t, c.Authority, ks, testenv.Holder(), []byte("Sup3r-Secret!"))
	luca := activate(t, c.Authority, ks, testenv.Delegate(), []byte("Alt3r-Secret!"))
	certs := []local.Cert{{Store: ks, Entry: marie}, {Store: ks, Entry: luca}}
	ask := func(typed string, r bridge.Request) (bridge.Answer, string) {
		t.Helper()
		in, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		w.WriteString(typed)
		w.Close()
		var out strings.Builder
		tc := &terminalConsent{p: i18n.New("en"), term: &cli.Terminal{In: in, Out: &out}, out: &out, interactive: true}
		a, err := tc.Consent(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		return a, out.String()
	}
	a, out := ask("2\nAlt3r-Secret!\n", bridge.Request{Origin: "https://portal.example", Action: bridge.ActionSign, Document: "Offre lot 3.pdf", Certs: certs})
	if !a.Allow || a.Cert != luca.ID || string(a.PIN) != "Alt3r-Secret!" {
		t.Fatalf("%+v\n%s", a, out)
	}
	for _, want := range []string{"https://portal.example asks to sign the document “Offre lot 3.pdf”", "1) Marie Dupont, Notaire (75-1234)", "2) Luca Bianchi, Ingegnere (MI-5678)", "Certificate to use (1 to 2", "PIN of Luca Bianchi's certificate"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal does not say %q:\n%s", want, out)
		}
	}
	for typed, r := range map[string]bridge.Request{
		"\n":              {Origin: "https://portal.example", Action: bridge.ActionSignIn, Certs: certs},       // Enter refuses
		"3\nx\n":          {Origin: "https://portal.example", Action: bridge.ActionSignIn, Certs: certs},       // no such certificate
		"y\n\n":           {Origin: "https://portal.example", Action: bridge.ActionRegister, Certs: certs[:1]}, // no PIN
		"no\n":            {Origin: "https://portal.example", Action: bridge.ActionCertificates, Certs: certs}, // not a yes
		"":                {Origin: "https://portal.example", Action: bridge.ActionCertificates, Certs: certs}, // end of input
		"yes please\nx\n": {Origin: "https://portal.example", Action: bridge.ActionRegister, Certs: certs[1:]}, // not a yes
	} {
		if a, out := ask(typed, r); a.Allow || len(a.PIN) != 0 || !strings.Contains(out, "Refused.") {
			t.Errorf("%q to %s: %+v\n%s", typed, r.Action, a, out)
		}
	}
	if a, out := ask("Y\n", bridge.Request{Origin: "https://portal.example", Action: bridge.ActionCertificates, Certs: certs}); !a.Allow || !strings.Contains(out, "asks to see your certificates") {
		t.Fatalf("%+v\n%s", a, out)
	}
	tc := &terminalConsent{p: i18n.New("en"), out: &strings.Builder{}}
	if _, err := tc.Consent(context.Background(), bridge.Request{Origin: "https://portal.example", Action: bridge.ActionSignIn}); err != bridge.ErrNoConsent {
		t.Fatalf("off a terminal: %v", err)
	}
}

// activate leaves in store what activation does: a key behind pin and the
// chain the CA issued for holder h.
func activate(t testing.TB, a *ca.Authority, store pkcs.Store, h ca.Holder, pin []byte) pkcs.Entry {
	t.Helper()
	key, err := store.Generate(pkcs.ECDSAP256, pin)
	if err != nil {
		t.Fatal(err)
	}
	chain := testenv.IssueTo(t, a, h, key)
	if err := store.SetChain(key.ID, chain); err != nil {
		t.Fatal(err)
	}
	return pkcs.Entry{ID: key.ID, Store: store.Name(), Chain: chain}
}
