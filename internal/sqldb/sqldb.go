// Package sqldb holds what paraphe-ca, paraphe-exchange and paraphe-portal
// share about their databases (SQLite by default, PostgreSQL when
// configured): how SQLite is opened, how a query is written for each, and
// how the PostgreSQL password file is read. Their stores, schemas and
// transactions stay their own.
package sqldb

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// SQLiteDSN is the modernc.org/sqlite address of the database at path, for
// writing. Its pragmas run in the order written: the busy timeout first,
// so that switching a fresh database to WAL (which needs its lock) waits
// for a server starting beside it instead of failing at once. Writers
// begin IMMEDIATE, so that another process (an operator's command next to
// a running server) waits instead of failing; each commit is synced.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_txlock=immediate&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
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
