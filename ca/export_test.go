package ca

import (
	"testing"
	"time"
)

// For the tests of package ca_test, which can use internal/testenv (its
// tokens) where package ca's own cannot.

// SetRemoteClock sets remote signing's clock.
func SetRemoteClock(a *Authority, now func() time.Time) { a.clock = now }

// DatabaseForTest is the database of a new CA for this pass of the
// tests: SQLite, then PostgreSQL (testDatabase).
func DatabaseForTest(t testing.TB) DatabaseConfig { return testDatabase(t) }
