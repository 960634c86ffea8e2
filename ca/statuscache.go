package ca

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// statusCache keeps the certificates' statuses an SQLite store has read
// for OCSP, for as long as no transaction has committed to the database
// since, in this process or in any other: each lookup first reads the
// WAL-index header (the first 96 bytes of the -shm file, its two copies:
// https://sqlite.org/walformat.html §2.2), which every commit rewrites,
// and compares it with the header the statuses were read under. A
// revocation by paraphe-ca revoke beside the server is answered at once,
// as when each request read the database, for one read of the header
// instead of a query, a third of the responder's CPU.
//
// The cache holds a connection open for its life, so that the -shm file
// it reads stays the database's: SQLite removes it only with the last
// connection. A header it cannot read, or being written, or a file no
// longer linked, is a change: the database is read.
type statusCache struct {
	wal  walIndex
	conn *sql.Conn // kept open: the -shm file stays

	mu     sync.Mutex
	header [walHeaderSize]byte // the statuses' header
	m      map[string]storedStatus

	queries atomic.Int64 // statuses read from the database (tests)
}

// statusCacheSize bounds the statuses kept: beyond, they are forgotten.
const statusCacheSize = 100_000

// storedStatus is a certificate's row as OCSP reads it.
type storedStatus struct {
	found   bool
	revoked sql.NullInt64
	reason  sql.NullString
}

// newStatusCache watches the SQLite database at path, which reads
// serves; nil when its WAL index cannot be read (the statuses are then
// read for each request).
func newStatusCache(ctx context.Context, reads *sql.DB, path string) *statusCache {
	conn, err := reads.Conn(ctx)
	if err != nil {
		return nil
	}
	// A read opens the WAL and its index, and the connection keeps them.
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&n); err != nil {
		conn.Close()
		return nil
	}
	wal, err := openWALIndex(path + "-shm")
	if err != nil {
		conn.Close()
		return nil
	}
	return &statusCache{wal: wal, conn: conn, m: map[string]storedStatus{}}
}

func (c *statusCache) close() {
	if c != nil {
		c.wal.Close()
		c.conn.Close()
	}
}

// status is serial's row: kept, when the database is as it was when it
// was read, or read with query (and kept).
func (c *statusCache) status(serial string, query func(string) (storedStatus, error)) (storedStatus, error) {
	if c == nil {
		return query(serial)
	}
	header, ok := c.wal.header()
	if ok {
		c.mu.Lock()
		st, hit := c.m[serial]
		hit = hit && header == c.header
		c.mu.Unlock()
		if hit {
			return st, nil
		}
	}
	// Read after the header: the row is as new as it, or newer.
	c.queries.Add(1)
	st, err := query(serial)
	if err != nil || !ok {
		return st, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if header != c.header || len(c.m) >= statusCacheSize {
		clear(c.m)
		c.header = header
	}
	c.m[serial] = st
	return st, nil
}

// readStatus reads serial's row from the database.
func (s *store) readStatus(serial string) (storedStatus, error) {
	stmt, err := s.preparedRead(`SELECT revoked, reason FROM certs WHERE serial = ?`)
	if err != nil {
		return storedStatus{}, fmt.Errorf("ca: database: %w", err)
	}
	st := storedStatus{found: true}
	switch err := stmt.QueryRow(serial).Scan(&st.revoked, &st.reason); {
	case errors.Is(err, sql.ErrNoRows):
		return storedStatus{}, nil
	case err != nil:
		return storedStatus{}, fmt.Errorf("ca: database: %w", err)
	}
	return st, nil
}
