package exchange

import (
	"os"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// The exchange's tests run twice: on SQLite, then on PostgreSQL (one
// server of scripts/postgres.sh for the whole run, a database per
// exchange) when PostgreSQL is installed, as in CI it must be. A failure
// on PostgreSQL logs "store: PostgreSQL" (newFixture).
var testPostgres *postgres.Server

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(postgres.TwoPasses(m, "exchange", &testPostgres)))
}

// testDatabase sets o's database for this pass of the tests: the SQLite
// file in the exchange's folder, or a new PostgreSQL database (its
// password in a file of its own), dropped when the test ends.
func testDatabase(t testing.TB, o *InitOptions) {
	t.Helper()
	if testPostgres == nil || o.Database != "" {
		return
	}
	o.Database, o.DatabasePasswordFile = testPostgres.TestDatabase(t, "exchange")
}
