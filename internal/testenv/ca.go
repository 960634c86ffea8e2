package testenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/protocol"
)

// Holder is the test holder: a notary with three questions.
func Holder() ca.Holder {
	return ca.Holder{
		Name: "Marie Dupont", Title: "Notaire", MemberNumber: "75-1234",
		Organization: "Chambre des notaires de Paris", Email: "marie.dupont@example.org",
		Questions: []ca.Question{
			{Question: "Ville de naissance ?", Answer: "Montréal"},
			{Question: "Nom de votre premier animal ?", Answer: "Rex"},
			{Question: "Votre école primaire ?", Answer: "Jules  Ferry"},
		},
	}
}

// Answers are Holder's answers as a holder might type them.
var Answers = []string{"montreal ", "REX", "jules ferry"}

// CA is a paraphe-ca serving on a loopback port.
type CA struct {
	Dir string // the CA folder
	URL string // https://127.0.0.1:PORT
	// ValidationURL serves OCSP, CRLs and CA certificates over plain HTTP.
	ValidationURL string
	Policy        string // a client policy file pointing at URL
	Log           *Buffer
	*ca.Authority
}

// Buffer is a bytes.Buffer safe for concurrent use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed at the next write (WaitFor)
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.b.Write(p)
}

// WaitFor waits until what was written matches re, for at most timeout,
// and reports whether it did.
func (b *Buffer) WaitFor(re *regexp.Regexp, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if re.Match(b.b.Bytes()) {
			b.mu.Unlock()
			return true
		}
		if b.written == nil {
			b.written = make(chan struct{})
		}
		written := b.written
		b.mu.Unlock()
		select {
		case <-written:
		case <-deadline.C:
			return false
		}
	}
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// StartCA creates a CA in a temporary folder and serves it in this process
// on an ephemeral loopback port until the test ends.
func StartCA(t testing.TB, o ca.InitOptions) *CA {
	t.Helper()
	// The port is known before the CA exists, so that its URL (in the
	// certificates it issues and in its service document) is the real one.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ca")
	o.URL = "https://" + l.Addr().String()
	o.ValidationURL = "http://" + lv.Addr().String()
	if err := ca.Init(dir, o); err != nil {
		t.Fatal(err)
	}
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := &CA{Dir: dir, URL: o.URL, ValidationURL: o.ValidationURL, Log: &Buffer{}, Authority: a}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l, lv, slog.New(slog.NewJSONHandler(c.Log, nil))) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	c.Policy = writePolicy(t, a, c.URL)
	return c
}

func writePolicy(t testing.TB, a *ca.Authority, url string) string {
	t.Helper()
	data, err := config.PolicyFor(url, ca.Fingerprint(a.Root))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Enroll registers Holder and returns the reference code.
func (c *CA) Enroll(t testing.TB) string {
	t.Helper()
	code, err := c.Authority.Enroll(context.Background(), Holder())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// CAProcess is a "paraphe-ca serve" process.
type CAProcess struct {
	Dir string
	URL string
	// ValidationURL serves OCSP, CRLs and CA certificates over plain HTTP.
	ValidationURL string
	// AdminURL serves /metrics, /healthz and /readyz (on an ephemeral
	// loopback port).
	AdminURL string
	Policy   string
	*serverProcess
}

// StartCAProcess creates a CA in a temporary folder with "bin init --url
// https://127.0.0.1:PORT initArgs…" and runs "bin serve" on that port,
// handing it the listening socket (socket activation, as systemd would),
// so that the port is the CA's own from the start. It waits for the line
// that says the server listens, and stops it when the test ends.
func StartCAProcess(t testing.TB, bin string, initArgs ...string) *CAProcess {
	t.Helper()
	return StartCAProcessWith(t, bin, CAProcessOptions{InitArgs: initArgs})
}

// CAProcessOptions change what StartCAProcessWith does.
type CAProcessOptions struct {
	InitArgs []string
	// Dir is the CA folder to create (default: one in t.TempDir()).
	Dir string
	// Prepare runs between init and serve.
	Prepare func(dir string)
	// Wrapper runs serve under another command ("setpriv", "--reuid=…",
	// "--"): "bin serve --dir DIR" is appended to it.
	Wrapper []string
	// Env is added to the environment of init and serve (a token's
	// SOFTHSM2_CONF and PARAPHE_CA_PIN).
	Env []string
	// ServeArgs are added to serve's arguments.
	ServeArgs []string
}

// StartCAProcessWith is StartCAProcess with options.
func StartCAProcessWith(t testing.TB, bin string, o CAProcessOptions) *CAProcess {
	t.Helper()
	var files []*os.File
	var addrs []string
	for range 2 { // HTTPS, then plain HTTP for validation data
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := l.(*net.TCPListener).File()
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
		addrs = append(addrs, l.Addr().String())
	}
	dir := o.Dir
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "ca")
	}
	url := "https://" + addrs[0]
	init := exec.Command(bin, append([]string{"init", "--dir", dir, "--url", url, "--validation-url", "http://" + addrs[1]}, o.InitArgs...)...)
	init.Env = append(os.Environ(), o.Env...)
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("paraphe-ca init: %v\n%s", err, out)
	}
	if o.Prepare != nil {
		o.Prepare(dir)
	}
	args := append(append([]string{}, o.Wrapper...), bin, "serve", "--dir", dir, "--admin-addr", "127.0.0.1:0")
	args = append(args, o.ServeArgs...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.ExtraFiles = files
	cmd.Env = append(append(os.Environ(), o.Env...), "LISTEN_FDS=2")
	sp := startServerProcess(t, cmd, url, "paraphe-ca serve")
	p := &CAProcess{Dir: dir, URL: url, AdminURL: sp.first.AdminURL, serverProcess: sp}
	p.Policy = filepath.Join(dir, "policy.json")
	p.ValidationURL = "http://" + addrs[1]
	return p
}

// serverProcess is a server whose first line on standard error says it
// listens, and at which addresses; the rest of what it writes there is
// kept.
type serverProcess struct {
	Log   *Buffer // everything the server wrote to stderr
	cmd   *exec.Cmd
	done  chan struct{}
	first struct {
		Msg, URL string
		AdminURL string `json:"admin_url"`
	}
}

// startServerProcess starts cmd, fails unless its first line on standard
// error is JSON saying "listening" at url, and stops it when the test
// ends.
func startServerProcess(t testing.TB, cmd *exec.Cmd, url, what string) *serverProcess {
	t.Helper()
	p := &serverProcess{Log: &Buffer{}, cmd: cmd, done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stderr)
	line, err := r.ReadString('\n')
	p.Log.Write([]byte(line))
	if err != nil || json.Unmarshal([]byte(line), &p.first) != nil || p.first.Msg != "listening" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%s did not start: %q %v", what, line, err)
	}
	if p.first.URL != url {
		t.Fatalf("%s listens on %s, not on the socket handed to it (%s)", what, p.first.URL, url)
	}
	go func() {
		io.Copy(p.Log, r)
		close(p.done)
	}()
	t.Cleanup(p.Stop)
	return p
}

// PID is the server's process id.
func (p *serverProcess) PID() int { return p.cmd.Process.Pid }

// Stop ends the server gracefully (SIGTERM) and waits for it.
func (p *serverProcess) Stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
	}
	p.cmd.Wait()
}

// HolderJSON is Holder as paraphe-ca enroll reads it on standard input.
func HolderJSON() string {
	data, _ := json.Marshal(Holder())
	return string(data)
}

// LastLine returns the last non-empty line of s.
func LastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Issue runs the whole activation for a fresh holder, in process, and
// returns the certificate the CA issues for key.
func (c *CA) Issue(t testing.TB, key crypto.Signer) *x509.Certificate {
	t.Helper()
	return Issue(t, c.Authority, key)
}

// Issue enrols Holder in a, answers its questions and returns the
// certificate a issues for key, all in process.
func Issue(t testing.TB, a *ca.Authority, key crypto.Signer) *x509.Certificate {
	t.Helper()
	ctx := context.Background()
	ref, err := a.Enroll(ctx, Holder())
	if err != nil {
		t.Fatal(err)
	}
	q, err := a.Questions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := a.Answer(ctx, ref, Answers[:len(q.Questions)])
	if err != nil {
		t.Fatal(err)
	}
	csr := CSR(t, key)
	leaf, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo), csr)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

// CSR is an empty certificate request signed by key: the CA takes the
// subject from its records.
func CSR(t testing.TB, key crypto.Signer) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

// PolicyWith writes a copy of the policy file at path, changed by edit
// (on its JSON fields), and returns the copy's path.
func PolicyWith(t testing.TB, path string, edit func(map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	data, _ = json.Marshal(p)
	out := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}
