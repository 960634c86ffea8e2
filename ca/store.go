package ca

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "modernc.org/sqlite"
)

// store is the CA database. One connection serialises writers inside the
// process; transactions are BEGIN IMMEDIATE so that another process (an
// admin command next to a running server) waits instead of failing.
type store struct{ *sql.DB }

const schema = `
CREATE TABLE IF NOT EXISTS holders (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	title         TEXT NOT NULL,
	member_number TEXT NOT NULL,
	organization  TEXT NOT NULL,
	email         TEXT NOT NULL,
	created       INTEGER NOT NULL,
	seal          INTEGER NOT NULL DEFAULT 0, -- an organisation's seal, not a person
	org_id        TEXT NOT NULL DEFAULT '',   -- a seal's organizationIdentifier
	country       TEXT NOT NULL DEFAULT ''    -- a seal's country
);
CREATE TABLE IF NOT EXISTS questions (
	holder_id   INTEGER NOT NULL REFERENCES holders(id),
	idx         INTEGER NOT NULL,
	question    TEXT NOT NULL,
	answer_hash TEXT NOT NULL,
	PRIMARY KEY (holder_id, idx)
);
CREATE TABLE IF NOT EXISTS refs (
	code         TEXT PRIMARY KEY,
	holder_id    INTEGER NOT NULL REFERENCES holders(id),
	created      INTEGER NOT NULL,
	expires      INTEGER NOT NULL,
	shown        TEXT NOT NULL,              -- question indexes shown, "0,2,4"
	failures     INTEGER NOT NULL DEFAULT 0, -- wrong answer sets, and attempts being checked
	window_start  INTEGER NOT NULL DEFAULT 0, -- start of the current window of answer checks
	window_checks INTEGER NOT NULL DEFAULT 0, -- answer checks in that window, right ones included
	used         INTEGER NOT NULL DEFAULT 0,
	superseded   INTEGER NOT NULL DEFAULT 0, -- a newer code was issued (reissue)
	auth_code    TEXT,                       -- one-time, cleared when used
	auth_expires INTEGER
);
CREATE TABLE IF NOT EXISTS certs (
	serial      TEXT PRIMARY KEY,
	holder_id   INTEGER NOT NULL REFERENCES holders(id),
	ref_code    TEXT UNIQUE REFERENCES refs(code), -- one certificate per reference, ever
	predecessor TEXT UNIQUE REFERENCES certs(serial), -- one successor per certificate, ever
	issued      INTEGER NOT NULL,
	not_after   INTEGER NOT NULL,
	der         BLOB NOT NULL,
	revoked     INTEGER,
	reason      TEXT
);
CREATE TABLE IF NOT EXISTS root_certs ( -- what the root issued: issuing CA, TSA, TLS
	serial    TEXT PRIMARY KEY,
	role      TEXT NOT NULL,
	issued    INTEGER NOT NULL,
	not_after INTEGER NOT NULL,
	der       BLOB NOT NULL,
	revoked   INTEGER,
	reason    TEXT
);
CREATE TABLE IF NOT EXISTS coupons (
	hash    TEXT PRIMARY KEY, -- SHA-256 of the code; the code itself is not kept
	created INTEGER NOT NULL,
	used_by TEXT REFERENCES certs(serial), -- the certificate issued with it
	used_at INTEGER
);
CREATE INDEX IF NOT EXISTS refs_holder ON refs(holder_id);
CREATE INDEX IF NOT EXISTS certs_holder ON certs(holder_id);
`

func openDB(path string) (*store, error) {
	dsn := "file:" + path + "?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("ca: database %s: %w", path, err)
	}
	return &store{db}, nil
}

// columns added since the first schema, for databases made before them.
var columns = []struct{ table, column, decl string }{
	{"refs", "window_start", "INTEGER NOT NULL DEFAULT 0"},
	{"refs", "window_checks", "INTEGER NOT NULL DEFAULT 0"},
	{"holders", "seal", "INTEGER NOT NULL DEFAULT 0"},
	{"holders", "org_id", "TEXT NOT NULL DEFAULT ''"},
	{"holders", "country", "TEXT NOT NULL DEFAULT ''"},
}

func migrate(db *sql.DB) error {
	if _, err := db.Exec(schema); err != nil {
		return err
	}
	for _, c := range columns {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := db.Exec("ALTER TABLE " + c.table + " ADD COLUMN " + c.column + " " + c.decl); err != nil {
				return err
			}
		}
	}
	return nil
}

// tx runs f in one immediate transaction.
func (s *store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return nil
}

func unix(t time.Time) int64 { return t.Unix() }
