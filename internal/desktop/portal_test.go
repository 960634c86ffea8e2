//go:build unix && !darwin && !android

package desktop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/paraphe/paraphe/internal/testenv"
)

// The portal's file chooser, GTK's, opened on a virtual display and
// driven with the keyboard as a user would: several PDFs chosen at once
// (their names with a "+", a space and an accent, one in capitals), the
// filter hiding the other files.
func TestPortalOpenSeveral(t *testing.T) {
	p := testenv.StartDesktopPortal(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", p.Address)
	names := []string{"a.pdf", "Dupont+Martin.PDF", "acte é.pdf"}
	for _, n := range append(names, "notes.txt") {
		if err := os.WriteFile(filepath.Join(p.Home, n), []byte("%PDF-1.4\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type answer struct {
		paths []string
		err   error
	}
	var want []string
	for _, n := range names {
		want = append(want, filepath.Join(p.Home, n))
	}
	slices.Sort(want)
	for try := 1; ; try++ {
		done := make(chan answer, 1)
		go func() {
			d := Dialog{Title: "Add PDFs", Accept: "Add", Filters: []Filter{{Name: "PDF documents", Extensions: []string{"pdf"}}}}
			ps, err := d.Open(context.Background(), true)
			done <- answer{ps, err}
		}()
		p.ChooseAll(t, "Add PDFs") // the portal's HOME holds the files
		a := <-done
		if a.err != nil {
			t.Fatal(a.err)
		}
		slices.Sort(a.paths)
		if len(a.paths) == 1 && slices.Contains(want, a.paths[0]) && try < 3 {
			t.Logf("GTK listed the folder after ctrl+a: its first row alone was chosen; again")
			continue
		}
		if !slices.Equal(a.paths, want) {
			t.Fatalf("chosen %q, want %q", a.paths, want)
		}
		return
	}
}

// Cancel is no choice and no error.
func TestPortalCancel(t *testing.T) {
	p := testenv.StartDesktopPortal(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", p.Address)
	done := make(chan error, 1)
	go func() {
		ps, err := Dialog{Title: "Pick one"}.Open(context.Background(), false)
		if err == nil && ps != nil {
			err = errors.New("a choice")
		}
		done <- err
	}()
	w := p.Xdotool(t, "search", "--sync", "--onlyvisible", "--name", "^Pick one$")
	p.Xdotool(t, "windowfocus", w)
	p.Xdotool(t, "key", "Escape")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// No session bus, or one without the portal: ErrUnavailable, at once.
func TestPortalUnavailable(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	if _, err := (Dialog{}).Open(context.Background(), true); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("without a bus: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", "")
	if _, err := (Dialog{}).Save(context.Background(), "x.pdf"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("without any bus address: %v", err)
	}
}

// A file manager the desktop knows (its default for folders: a script here
// that says what it was asked to show). "Show in folder" goes through the
// portal's OpenDirectory, given the file; without a portal, through
// xdg-open on the folder; without either, ErrNoFileManager.
func TestShowInFolder(t *testing.T) {
	p := testenv.StartDesktopPortal(t)
	shown := fileManager(t, p.Home)
	dir := t.TempDir()
	signed := filepath.Join(dir, "acte signé+1.pdf")
	writeFile(t, signed, "%PDF-1.4\n", 0o644)

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", p.Address)
	if err := openDirectory(context.Background(), signed, 0); err != nil {
		t.Fatalf("through the portal: %v", err)
	}
	if got := <-shown; got != dir {
		t.Fatalf("the portal showed %q, want %q", got, dir)
	}

	testenv.Require(t, "xdg-open")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	t.Setenv("XDG_CURRENT_DESKTOP", "")
	t.Setenv("DISPLAY", p.Display) // xdg-open looks for a file manager only with a display
	t.Setenv("XDG_DATA_HOME", filepath.Join(p.Home, ".local", "share"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(p.Home, ".config"))
	if err := ShowInFolder(context.Background(), signed, 0); err != nil {
		t.Fatalf("through xdg-open: %v", err)
	}
	if got := <-shown; got != dir {
		t.Fatalf("xdg-open showed %q, want %q", got, dir)
	}

	t.Setenv("PATH", t.TempDir())
	if err := ShowInFolder(context.Background(), signed, 0); !errors.Is(err, ErrNoFileManager) {
		t.Fatalf("with neither: %v", err)
	}
}

// fileManager makes a script the default application for folders for a
// desktop whose HOME is home, and returns what it is asked to show, line
// by line (a named pipe: each read waits for the script).
func fileManager(t *testing.T, home string) <-chan string {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "shown")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	handler := filepath.Join(home, ".local", "files.sh")
	writeFile(t, handler, "#!/bin/sh\nprintf '%s\\n' \"$1\" > "+fifo+"\n", 0o755)
	writeFile(t, filepath.Join(home, ".local", "share", "applications", "test-files.desktop"),
		"[Desktop Entry]\nType=Application\nName=Files\nExec="+handler+" %f\nMimeType=inode/directory;\n", 0o644)
	writeFile(t, filepath.Join(home, ".config", "mimeapps.list"), "[Default Applications]\ninode/directory=test-files.desktop\n", 0o644)
	shown := make(chan string)
	go func() {
		for {
			b, err := os.ReadFile(fifo)
			if err != nil {
				return
			}
			shown <- strings.TrimSuffix(string(b), "\n")
		}
	}()
	return shown
}

func writeFile(t *testing.T, path, data string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
}

// The portal's URIs are percent-encoded paths: a "+" is a "+" (a query
// string's decoding would make it a space), and only local files count.
func TestPaths(t *testing.T) {
	uris := []string{"file:///home/m/Dupont+Martin%2B1.pdf", "file:///home/m/acte%20%C3%A9t%C3%A9.pdf", "file://localhost/tmp/x.pdf"}
	got, err := paths(map[string]dbus.Variant{"uris": dbus.MakeVariant(uris)})
	want := []string{"/home/m/Dupont+Martin+1.pdf", "/home/m/acte été.pdf", "/tmp/x.pdf"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("paths: %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"https://example.org/x.pdf", "file://server/share/x.pdf"} {
		if _, err := paths(map[string]dbus.Variant{"uris": dbus.MakeVariant([]string{bad})}); err == nil {
			t.Errorf("%s taken for a local file", bad)
		}
	}
	if got, err := paths(map[string]dbus.Variant{}); got != nil || err != nil {
		t.Errorf("no uris: %q, %v", got, err)
	}
}
