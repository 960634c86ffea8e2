package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// Postgres starts a PostgreSQL server (scripts/postgres.sh) for the test
// and stops it when the test ends; without PostgreSQL installed, the test
// is skipped (it fails in CI).
func Postgres(t testing.TB) *postgres.Server {
	t.Helper()
	if err := postgres.Available(); err != nil {
		Missing(t, err.Error())
	}
	s, err := postgres.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// cmdPostgres is the script command postgres:
//
//	postgres start     a server for the script with an empty database "ca":
//	                   $PGURL (its URL, without password), $PG_PASSWORD_FILE (mode 600)
//	postgres psql ARGS psql on that database (its password from a PGPASSFILE
//	                   of its own), stopping at the first error
func cmdPostgres(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 || (args[0] != "start" && args[0] != "psql") || (args[0] == "start" && (neg || len(args) != 1)) {
		ts.Fatalf("usage: postgres start | postgres psql ARGS...")
	}
	st := state(ts)
	if args[0] == "start" {
		if st.postgres != nil {
			ts.Fatalf("postgres start: a server runs already")
		}
		s := Postgres(tb(ts))
		if _, err := s.Admin().ExecContext(context.Background(), `CREATE DATABASE ca`); err != nil {
			ts.Fatalf("create database: %v", err)
		}
		pw := filepath.Join(ts.Getenv("WORK"), "db-password")
		ts.Check(os.WriteFile(pw, []byte(s.Password+"\n"), 0o600))
		st.postgres = s
		ts.Setenv("PGURL", s.URL("ca"))
		ts.Setenv("PG_PASSWORD_FILE", pw)
		return
	}
	if st.postgres == nil {
		ts.Fatalf("postgres psql: no server (postgres start)")
	}
	Require(tb(ts), "psql")
	pass := filepath.Join(ts.Getenv("WORK"), ".psql-pgpass")
	ts.Check(os.WriteFile(pass, []byte("*:*:*:paraphe:"+st.postgres.Password+"\n"), 0o600))
	cmd := exec.Command("psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", ts.Getenv("PGURL")}, args[1:]...)...)
	cmd.Env = append(scriptEnv(ts), "PGPASSFILE="+pass)
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	err := cmd.Run()
	if err != nil && !neg {
		ts.Fatalf("psql: %v", err)
	}
	if err == nil && neg {
		ts.Fatalf("psql succeeded unexpectedly")
	}
}
