package sqldb

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c = ? FOR UPDATE"
	if got := Rebind(q, true); got != "SELECT a FROM t WHERE b = $1 AND c = $2 FOR UPDATE" {
		t.Errorf("PostgreSQL: %q", got)
	}
	if got := Rebind(q, false); got != "SELECT a FROM t WHERE b = ? AND c = ?" {
		t.Errorf("SQLite: %q", got)
	}
}

// A password file others may read, or an empty one, is refused; the first
// line of a private one is the password.
func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pw")
	os.WriteFile(p, []byte("s3cret\r\nignored\n"), 0o600)
	if pw, err := ReadPasswordFile(p); err != nil || pw != "s3cret" {
		t.Fatalf("%q, %v", pw, err)
	}
	if runtime.GOOS != "windows" {
		os.Chmod(p, 0o640)
		if _, err := ReadPasswordFile(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("a file the group reads: %v", err)
		}
	}
	os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600)
	if _, err := ReadPasswordFile(filepath.Join(dir, "empty")); err == nil {
		t.Fatal("an empty file accepted")
	}
}
