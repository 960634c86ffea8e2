package sqldb

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
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

// Servers starting together on one new SQLite file (each its own
// connection, as separate processes would have) all open it, in WAL.
// SQLite refuses, without waiting, all but one of the connections
// switching a new file to WAL at once; OpenSQLite retries them.
func TestOpenSQLiteTogether(t *testing.T) {
	for round := range 200 {
		path := filepath.Join(t.TempDir(), "db")
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Go(func() {
				db, err := OpenSQLite(context.Background(), path)
				if err != nil {
					errs[i] = err
					return
				}
				defer db.Close()
				tx, err := db.Begin()
				if err != nil {
					errs[i] = err
					return
				}
				defer tx.Rollback()
				if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS t (a INTEGER)`); err != nil {
					errs[i] = err
					return
				}
				errs[i] = tx.Commit()
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, server %d: %v", round, i, err)
			}
		}
		db, err := OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		err = db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		db.Close()
		if err != nil || mode != "wal" {
			t.Fatalf("journal mode %q, %v", mode, err)
		}
	}
}

// Migrations are read in order; a gap, a name without its number or a
// file that is not .sql is refused.
func TestReadMigrations(t *testing.T) {
	good := fstest.MapFS{
		"m/0001_schema.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"m/0002_more.sql":   {Data: []byte("CREATE TABLE b (y INTEGER);")},
	}
	ms, err := ReadMigrations(good, "m")
	if err != nil || len(ms) != 2 || ms[1] != (Migration{2, "more", "CREATE TABLE b (y INTEGER);"}) {
		t.Fatalf("%+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"a gap":     {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no number": {"m/schema.sql": {}},
		"not SQL":   {"m/0001_a.txt": {}},
		"no name":   {"m/0001.sql": {}},
	} {
		if _, err := ReadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
