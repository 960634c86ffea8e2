package exchange

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// The exchange's tests run twice: on SQLite, then on PostgreSQL (one
// server of scripts/postgres.sh for the whole run, a database per
// exchange) when PostgreSQL is installed, as in CI it must be. A failure
// on PostgreSQL logs "store: PostgreSQL" (newFixture).
var testPostgres *postgres.Server

func TestMain(m *testing.M) { os.Exit(testenv.Main(bothStores{m})) }

// bothStores runs the tests on each store in turn.
type bothStores struct{ m *testing.M }

func (b bothStores) Run() int {
	code := b.m.Run()
	if err := postgres.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "exchange: the tests ran on SQLite only: %v\n", err)
		if os.Getenv("CI") == "true" {
			code = max(code, 1)
		}
		return code
	}
	srv, err := postgres.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "exchange: PostgreSQL did not start: %v\n", err)
		return max(code, 1)
	}
	defer srv.Stop()
	fmt.Printf("exchange: the same tests on PostgreSQL (%s)\n", srv.Addr)
	testPostgres = srv
	return max(code, b.m.Run())
}

// testDatabase sets o's database for this pass of the tests: the SQLite
// file in the exchange's folder, or a new PostgreSQL database (its
// password in a file of its own), dropped when the test ends.
func testDatabase(t testing.TB, o *InitOptions) {
	t.Helper()
	if testPostgres == nil || o.Database != "" {
		return
	}
	ctx := context.Background()
	name, err := testPostgres.CreateDatabase(ctx, "exchange")
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
	o.Database, o.DatabasePasswordFile = testPostgres.URL(name), pw
}
