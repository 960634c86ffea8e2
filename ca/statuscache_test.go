package ca

import (
	"context"
	"crypto"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// On SQLite, OCSP requests read a certificate's status once while the
// database does not change; any commit, by this process or another,
// has the next one read it again: a revocation elsewhere is answered at
// once, after the WAL was checkpointed and restarted too.
func TestStatusCache(t *testing.T) {
	a := newCA(t, InitOptions{})
	if a.db.statuses == nil {
		t.Skip("no status cache on this store (PostgreSQL reads each request's)")
	}
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	reads := func() int64 { return a.db.statuses.queries.Load() }
	status := func() int {
		_, st, _ := ask(t, a, leaf, crypto.SHA1, time.Now())
		return st
	}
	status()
	before := reads()
	for range 10 {
		if st := status(); st != ocsp.Good {
			t.Fatalf("status %d, want good", st)
		}
	}
	if n := reads() - before; n != 0 {
		t.Fatalf("the database read %d times for ten requests with nothing changed", n)
	}

	// Another process: a holder enrolled (nothing about this certificate),
	// then the WAL checkpointed and restarted, then the revocation.
	other, err := Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	mustEnroll(t, other)
	status()
	if n := reads() - before; n != 1 {
		t.Fatalf("after another process's commit: %d reads, want 1", n)
	}
	raw, err := sql.Open("sqlite", filepath.Join(a.Dir, fileDB))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	status()
	if err := other.Revoke(context.Background(), serialHex(leaf.SerialNumber), "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if st := status(); st != ocsp.Revoked {
		t.Fatalf("after a revocation by another process: status %d, want revoked", st)
	}
}
