package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
)

// guiEnv is the environment of the desktop app on display, with its own
// Paraphe folder and no machine policy (so it offers the demo CA).
func guiEnv(t testing.TB, display string) []string {
	home := t.TempDir()
	return append(os.Environ(), "DISPLAY="+display, "PARAPHE_HOME="+home,
		"PARAPHE_POLICY="+filepath.Join(home, "none.json"), "PARAPHE_LANG=fr", "LANG=en_US.UTF-8")
}

// paraphe with no arguments opens the main window, titled Paraphe, on a
// real X display.
func TestGUIOpensWindow(t *testing.T) {
	testenv.Require(t, "xdotool")
	display := testenv.StartXvfb(t)
	cmd := exec.Command(filepath.Join(binDir, "paraphe"))
	cmd.Env = guiEnv(t, display)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	search := exec.CommandContext(ctx, "xdotool", "search", "--sync", "--onlyvisible", "--name", "^Paraphe$")
	search.Env = cmd.Env
	id, err := search.Output()
	if err != nil || strings.TrimSpace(string(id)) == "" {
		t.Fatalf("no window titled Paraphe: %v\n%s", err, out.String())
	}
}

// Without a display, paraphe says how to get one and shows the command line.
func TestGUINoDisplay(t *testing.T) {
	r := runBin(t, "", []string{"DISPLAY=", "WAYLAND_DISPLAY="}, "paraphe")
	if r.code != 1 || !strings.Contains(r.stderr, "xvfb-run") || !strings.Contains(r.stdout, "paraphe activate") {
		t.Fatalf("%+v", r)
	}
}

// BenchmarkGUIStart measures a cold start of the desktop app: from the
// process starting to its window up and its event loop running (target:
// first frame within 1 s).
func BenchmarkGUIStart(b *testing.B) {
	display := testenv.StartXvfb(b)
	env := append(guiEnv(b, display), "PARAPHE_GUI_QUIT_AFTER_START=1")
	for b.Loop() {
		cmd := exec.Command(filepath.Join(binDir, "paraphe"))
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}

// The desktop toolkit is linked in but says nothing on the command line,
// whatever the locale (it logs at start-up when it cannot parse "C.UTF-8",
// and when its theme is used before an app exists).
func TestCLIQuietWithToolkit(t *testing.T) {
	for _, lang := range []string{"LANG=C.UTF-8", "LANG=C", "LANG=", "LC_ALL=C.UTF-8"} {
		r := runBin(t, "", []string{lang, "LANGUAGE="}, "paraphe", "version")
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%s: %+v", lang, r)
		}
	}
}

// A DISPLAY where no X server answers (left over from an SSH session, say)
// is said in words, not with the toolkit's panic.
func TestGUIDisplayUnreachable(t *testing.T) {
	n := 90
	for ; n < 200; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err != nil {
			break
		}
	}
	r := runBin(t, "", []string{fmt.Sprintf("DISPLAY=:%d", n)}, "paraphe")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot be opened") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("%+v", r)
	}
}
