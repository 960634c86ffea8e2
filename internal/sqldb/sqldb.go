// Package sqldb holds what paraphe-ca, paraphe-exchange and paraphe-portal
// share about their databases (SQLite by default, PostgreSQL when
// configured): how SQLite and a PostgreSQL pool are opened, how a query is
// written for each, how the PostgreSQL password file is read and how the
// numbered migration files are read. Their stores, schemas, transactions
// and the applying of migrations stay their own.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDSN is the modernc.org/sqlite address of the database at path, for
// writing. The busy timeout comes first (the driver runs it before the
// other pragmas). Writers begin IMMEDIATE, so that another process (an
// operator's command next to a running server) waits instead of failing;
// each commit is synced.
func sqliteDSN(path string) string {
	return "file:" + path + "?_txlock=immediate&" + busyPragma + "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
}

// busyWait is how long opening SQLite waits for a database another
// process holds: the busy timeout of sqliteDSN.
const busyWait = 10 * time.Second

var busyPragma = "_pragma=busy_timeout(" + strconv.FormatInt(busyWait.Milliseconds(), 10) + ")"

// OpenSQLite opens (creating it) the SQLite database at path for writing,
// with one connection: writers inside the process are serialised there,
// and BEGIN IMMEDIATE (sqliteDSN) makes another process wait for them.
//
// A new file is first switched to WAL on a connection of its own. SQLite
// answers SQLITE_BUSY at once, without calling its busy handler, to a
// connection switching a database to WAL while another process does the
// same (two servers starting on one new file, a server and an operator's
// command): that switch is retried here until busyWait has passed. WAL
// is recorded in the file, so every later connection finds it done.
func OpenSQLite(ctx context.Context, path string) (*sql.DB, error) {
	if err := ensureWAL(ctx, path); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", sqliteDSN(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func ensureWAL(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?"+busyPragma)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(busyWait)
	for attempt := 1; ; attempt++ {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("%s: SQLite kept the journal mode %q instead of WAL", path, mode)
		case !isSQLiteBusy(err) || time.Now().After(deadline) || ctx.Err() != nil:
			return err
		}
		// Another process is switching it: give it the time to.
		time.Sleep(time.Duration(rand.IntN(min(attempt, 20)*5)+1) * time.Millisecond)
	}
}

// isSQLiteBusy reports whether err is SQLite's SQLITE_BUSY (another
// connection holds the lock needed), whatever its extended code.
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Rebind writes q, whose placeholders are ?, for PostgreSQL ($1, $2…)
// when postgres, else for SQLite, which has no row locks: a trailing
// FOR UPDATE is dropped (SQLite's writers are serialised anyway). The
// queries hold no ? but placeholders.
func Rebind(q string, postgres bool) string {
	if !postgres {
		return strings.TrimSuffix(q, " FOR UPDATE")
	}
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// ReadPasswordFile reads a database password: the file's first line.
// Like libpq with ~/.pgpass, it refuses a file others may read.
func ReadPasswordFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s may be read by others than its owner (chmod 600 it)", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	if pw = strings.TrimSuffix(pw, "\r"); pw == "" {
		return "", errors.New(path + " is empty")
	}
	return pw, nil
}
