package testenv

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// DesktopPortal is the XDG desktop portal with its GTK backend on a
// private session bus (scripts/desktop-portal.sh), its dialogs on an X
// display: the file chooser a GNOME desktop shows.
type DesktopPortal struct {
	Address string // DBUS_SESSION_BUS_ADDRESS of its bus
	Home    string // HOME of the portal and its backend (XDG folders below it)
	Display string // the X display its dialogs open on
}

// StartDesktopPortal starts a virtual X display and the portal on it, and
// stops both when the test ends. It skips the test (fails it in CI) when
// the portal, its GTK backend or Xvfb is not installed.
func StartDesktopPortal(t testing.TB) *DesktopPortal {
	t.Helper()
	Require(t, "Xvfb", "dbus-run-session", "gdbus", "xdotool")
	for _, p := range []string{"/usr/libexec/xdg-desktop-portal", "/usr/libexec/xdg-desktop-portal-gtk"} {
		if _, err := os.Stat(p); err != nil {
			Missing(t, p+" is not installed (make deps installs xdg-desktop-portal and xdg-desktop-portal-gtk)")
		}
	}
	repo, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The portal's home is a folder of the test's own, emptied by the
	// portal's cleanup below: GTK's backend writes its recent files there
	// as it leaves, which would race with the test folder's removal.
	p := &DesktopPortal{Display: StartXvfb(t), Home: filepath.Join(t.TempDir(), "home")}
	if err := os.Mkdir(p.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(repo, "scripts", "desktop-portal.sh"))
	cmd.Env = append(os.Environ(), "DISPLAY="+p.Display, "DESKTOP_PORTAL_HOME="+p.Home)
	// The bus and the portal talk a lot: their words are kept in a file,
	// shown only when the test fails.
	log, err := os.Create(filepath.Join(t.TempDir(), "portal.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = log
	t.Cleanup(func() {
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("scripts/desktop-portal.sh said:\n%s", b)
		}
	})
	ownGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Its standard input closed, the script ends and its bus with it;
		// the portal and its backend leave with the bus.
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		// What the bus started may outlive it for a moment: none of it
		// writes in the home once the group is gone.
		killGroup(cmd)
		<-done
		removeHome(t, p.Home)
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(l, "DBUS_SESSION_BUS_ADDRESS=")
		if !ok {
			t.Fatalf("scripts/desktop-portal.sh did not start the portal (it printed %q)", l)
		}
		p.Address = addr
	case <-time.After(60 * time.Second):
		t.Fatal("scripts/desktop-portal.sh: the portal did not answer within 60 s")
	}
	return p
}

// Xdotool runs xdotool on the portal's display with args and returns what
// it printed ("search --sync --name TITLE" waits for a dialog).
func (p *DesktopPortal) Xdotool(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+p.Display)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xdotool %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// removeHome removes the portal's home, trying again while a process of
// the portal's that was still leaving adds a file to it.
func removeHome(t testing.TB, home string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(home); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the desktop portal's home: %v", err)
}

// ChooseAll, in the portal's file dialog titled title, goes to the
// portal's home (alt+Home) and chooses every file listed there (ctrl+a,
// Return), as a user would. GTK lists the folder in the background and,
// when the list is there, selects its first row: keys that arrive before
// it choose nothing (Return does nothing on an empty list) or that one
// row. Nothing outside GTK says when the list is there, so ChooseAll
// sends ctrl+a and Return again while the dialog stays open; a caller
// given the first row alone opens the dialog again (GTK's, not the
// caller's, doing). It returns when the dialog is gone.
func (p *DesktopPortal) ChooseAll(t testing.TB, title string) {
	t.Helper()
	w := p.Xdotool(t, "search", "--sync", "--onlyvisible", "--name", "^"+regexp.QuoteMeta(title)+"$")
	p.Xdotool(t, "windowfocus", w)
	p.Xdotool(t, "key", "alt+Home")
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		p.Xdotool(t, "key", "ctrl+a", "Return")
		// Polled: GTK says nothing when it has answered.
		for range 20 {
			if !p.visible(w) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Fatalf("the %q dialog did not answer ctrl+a and Return within a minute", title)
}

// visible reports whether X window w is still mapped.
func (p *DesktopPortal) visible(w string) bool {
	cmd := exec.Command("xdotool", "getwindowname", w)
	cmd.Env = append(os.Environ(), "DISPLAY="+p.Display)
	if cmd.Run() != nil {
		return false // destroyed
	}
	cmd = exec.Command("xdotool", "search", "--onlyvisible", "--name", ".")
	cmd.Env = append(os.Environ(), "DISPLAY="+p.Display)
	out, _ := cmd.Output()
	return slices.Contains(strings.Fields(string(out)), w)
}
