package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	desktop "github.com/paraphe/paraphe/app"
	"github.com/paraphe/paraphe/internal/demo"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/protocol"
)

// paraphe demo serves the demo CA until stopped and says what the other
// commands need: its policy, the holder's answers and, last, a code, which
// activates. A second one finds it running; a stop ends it cleanly.
func TestDemoCommand(t *testing.T) {
	testenv.NeedSecretService(t)
	home := filepath.Join(t.TempDir(), "home")
	env := []string{"PARAPHE_HOME=" + home}
	cmd := exec.Command(filepath.Join(binDir, "paraphe"), "demo")
	cmd.Env = append(append(os.Environ(), "PARAPHE_LANG=en"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if _, err := protocol.ParseRefCode(sc.Text()); err == nil {
			break
		}
	}
	out := strings.Join(lines, "\n")
	_, policy, ok := strings.Cut(out, "PARAPHE_POLICY=")
	policy, _, _ = strings.Cut(policy, "\n")
	if !ok || !strings.Contains(out, "https://127.0.0.1:") || !strings.Contains(out, "Montréal · Rex · Jules Ferry") {
		t.Fatalf("paraphe demo says:\n%s", out)
	}
	if policy != filepath.Join(home, "demo-ca", "policy.json") {
		t.Fatalf("policy %q", policy)
	}

	if r := runBin(t, "", env, "paraphe", "demo"); r.code != explain.ExitDemoBusy || !strings.Contains(r.stderr, "already running") || !strings.Contains(r.stderr, "hint: ") {
		t.Fatalf("a second paraphe demo: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "demo", "now"); r.code != explain.ExitUsage {
		t.Fatalf("paraphe demo now: %+v", r)
	}

	answers := filepath.Join(t.TempDir(), "answers.txt")
	os.WriteFile(answers, []byte("montreal\nREX\njules ferry\n"), 0o600)
	r := runBin(t, "", append(env, "PARAPHE_POLICY="+policy, "PARAPHE_PIN="+testPIN),
		"paraphe", "activate", "--ref", lines[len(lines)-1], "--answers-file", answers)
	if r.code != 0 || !strings.Contains(r.stdout, "Marie Dupont") {
		t.Fatalf("activating the demo code: %+v", r)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("paraphe demo, stopped: %v", err)
	}
}

// The desktop app's demo is the same one: running already (from paraphe
// demo, or another window), the app is told ErrDemoBusy.
func TestGUIDemoIsTheSameDemo(t *testing.T) {
	t.Setenv("PARAPHE_HOME", filepath.Join(t.TempDir(), "home"))
	p := i18n.New("en")
	dir, err := demo.Dir()
	if err != nil {
		t.Fatal(err)
	}
	running, err := demo.Start(dir, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = startDemo(p)
	running.Stop()
	if !errors.Is(err, desktop.ErrDemoBusy) {
		t.Fatalf("the app's demo while another runs: %v", err)
	}
	c, err := startDemo(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if c.Policy().CA.URL != running.URL() {
		t.Fatalf("the app's demo serves on %s, paraphe demo's on %s", c.Policy().CA.URL, running.URL())
	}
}
