package ca

import (
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
func OnBothStores(m *testing.M) interface{ Run() int } {
	return postgres.TwoPasses(m, "ca", &testPostgres)
}

// testDatabase is the database of a new CA for this pass of the tests:
// the SQLite file in its folder, or a new PostgreSQL database, with the
// password in a file of its own, dropped when the test ends.
func testDatabase(t testing.TB) DatabaseConfig {
	t.Helper()
	if testPostgres == nil {
		return DatabaseConfig{}
	}
	url, pw := testPostgres.TestDatabase(t, "ca")
	return DatabaseConfig{URL: url, PasswordFile: pw}
}
