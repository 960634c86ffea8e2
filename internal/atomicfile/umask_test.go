//go:build unix

package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A new file gets the permission asked less the umask, as cp gives a
// copy; one without write permission is still written whole.
func TestCreateUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for _, c := range []struct {
		perm, want os.FileMode
	}{
		{0o666, 0o640},
		{0o644, 0o640},
		{0o600, 0o600},
		{0o444, 0o440},
	} {
		p := filepath.Join(dir, c.perm.String())
		if err := Create(p, c.perm, func(w io.Writer) error { _, err := w.Write([]byte("whole")); return err }); err != nil {
			t.Fatalf("%v: %v", c.perm, err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("asked %v under umask 027: got %v, want %v", c.perm, got, c.want)
		}
		if b, _ := os.ReadFile(p); string(b) != "whole" {
			t.Errorf("%v: content %q", c.perm, b)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Fatalf("left behind: %v", entries)
	}
}

func TestCopyPerm(t *testing.T) {
	dir := t.TempDir()
	for perm, want := range map[os.FileMode]os.FileMode{0o644: 0o644, 0o755: 0o644, 0o600: 0o600, 0o444: 0o444, 0o660: 0o660} {
		p := filepath.Join(dir, perm.String())
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		if got := CopyPerm(fi); got != want {
			t.Errorf("copy of %v: %v, want %v", perm, got, want)
		}
	}
}
