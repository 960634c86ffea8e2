package portal

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// The portal's tests run twice: on SQLite, then on PostgreSQL (a server of
// scripts/postgres.sh for the whole run, a database per test), when
// PostgreSQL is installed; in CI it must be. A failure on PostgreSQL logs
// "store: PostgreSQL".
var testPostgres *postgres.Server

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if err := postgres.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "portal: the tests ran on SQLite only: %v\n", err)
		if os.Getenv("CI") == "true" {
			code = max(code, 1)
		}
		os.Exit(code)
	}
	srv, err := postgres.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "portal: PostgreSQL did not start: %v\n", err)
		os.Exit(max(code, 1))
	}
	fmt.Printf("portal: the same tests on PostgreSQL (%s)\n", srv.Addr)
	testPostgres = srv
	code = max(code, m.Run())
	srv.Stop()
	os.Exit(code)
}

// testDatabase is a new database for this pass of the tests: an SQLite
// file, or a PostgreSQL database with its password in a file of its own,
// dropped when the test ends.
func testDatabase(t testing.TB) Database {
	t.Helper()
	if testPostgres == nil {
		return Database{URL: filepath.Join(t.TempDir(), "portal.db")}
	}
	ctx := context.Background()
	name, err := testPostgres.CreateDatabase(ctx, "portal")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testPostgres.DropDatabase(ctx, name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	t.Logf("store: PostgreSQL, database %s", name)
	pw := filepath.Join(t.TempDir(), "db-password")
	if err := os.WriteFile(pw, []byte(testPostgres.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Database{URL: testPostgres.URL(name), PasswordFile: pw}
}

// testStore opens a store on a new database of this pass.
func testStore(t testing.TB) (*Store, Database) {
	t.Helper()
	d := testDatabase(t)
	st, err := Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, d
}
