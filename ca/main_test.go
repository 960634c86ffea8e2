package ca

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// The CA's tests run twice: on SQLite, then on PostgreSQL (a server of
// scripts/postgres.sh for the whole run, a database per CA), when
// PostgreSQL is installed; in CI it must be. A failure on PostgreSQL logs
// "store: PostgreSQL" (newCA). TestMain (keys_test.go, in package ca_test)
// runs OnBothStores(m).
var testPostgres *postgres.Server

// OnBothStores is m, whose Run runs the tests on each store in turn.
func OnBothStores(m *testing.M) interface{ Run() int } { return bothStores{m} }

type bothStores struct{ m *testing.M }

func (b bothStores) Run() int {
	flag.Parse()
	code := b.m.Run()
	if err := postgres.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "ca: the tests ran on SQLite only: %v\n", err)
		if os.Getenv("CI") == "true" {
			code = max(code, 1)
		}
		return code
	}
	srv, err := postgres.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ca: PostgreSQL did not start: %v\n", err)
		return max(code, 1)
	}
	defer srv.Stop()
	fmt.Printf("ca: the same tests on PostgreSQL (%s)\n", srv.Addr)
	testPostgres = srv
	defer func() { testPostgres = nil }()
	return max(code, b.m.Run())
}

// testDatabase is the database of a new CA for this pass of the tests:
// the SQLite file in its folder, or a new PostgreSQL database, with the
// password in a file of its own, dropped when the test ends.
func testDatabase(t testing.TB) DatabaseConfig {
	t.Helper()
	if testPostgres == nil {
		return DatabaseConfig{}
	}
	ctx := context.Background()
	name, err := testPostgres.CreateDatabase(ctx, "ca")
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
	return DatabaseConfig{URL: testPostgres.URL(name), PasswordFile: pw}
}
