package portal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"

	"github.com/paraphe/paraphe/internal/sqldb"
)

// The portal keeps its records in an SQLite file (the default: one
// server) or in a PostgreSQL database, which several paraphe-portal
// replicas may share, as paraphe-ca's replicas do. The code is one for
// both, through database/sql: queries are written with ? placeholders,
// which the store numbers ($1, $2…) for PostgreSQL; a read that decides a
// write locks its row (FOR UPDATE, which SQLite, whose transactions are
// serial already, does without). What must be single is the database's to
// enforce: one user per national ID number and supplier, one
// administrator per supplier, one registration per certificate, one use
// per challenge.

// Database says where the portal keeps its records: the path of an SQLite
// file, or the URL of a PostgreSQL database (postgres://…, without a
// password: it comes from PasswordFile, mode 600, or else from libpq's
// PGPASSFILE or ~/.pgpass, or none over a Unix socket with peer
// authentication).
type Database struct {
	URL          string
	PasswordFile string
}

// Errors of the database configuration.
var (
	// ErrDatabasePassword: the database URL carries a password.
	ErrDatabasePassword = errors.New("portal: the database URL carries a password")
	// ErrPasswordFile: the database password file cannot be used.
	ErrPasswordFile = errors.New("portal: the database password file cannot be used")
	// ErrDatabaseUnreachable: no connection to the PostgreSQL database.
	ErrDatabaseUnreachable = errors.New("portal: cannot connect to the database")
)

// IsPostgres reports whether d names a PostgreSQL database.
func (d Database) IsPostgres() bool {
	return strings.HasPrefix(d.URL, "postgres://") || strings.HasPrefix(d.URL, "postgresql://")
}

// Redacted is the database as it may be shown or logged.
func (d Database) Redacted() string {
	if !d.IsPostgres() {
		return d.URL
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

type dialect int

const (
	sqliteDB dialect = iota
	postgresDB
)

func (d dialect) String() string { return [...]string{"sqlite", "postgres"}[d] }

// Store is the portal's database.
type Store struct {
	db      *sql.DB
	dialect dialect
}

// OpenStore opens (creating it) the SQLite database at path and brings
// its schema up to date.
func OpenStore(path string) (*Store, error) { return Open(context.Background(), Database{URL: path}) }

// Open opens the database d names and brings its schema up to date
// (migrate.go).
func Open(ctx context.Context, d Database) (*Store, error) {
	s, err := connect(d)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, unreachable(d, err)
	}
	return s, nil
}

func connect(d Database) (*Store, error) {
	if !d.IsPostgres() {
		db, err := sqldb.OpenSQLite(context.Background(), d.URL)
		if err != nil {
			return nil, fmt.Errorf("portal: database: %w", err)
		}
		return &Store{db: db, dialect: sqliteDB}, nil
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return nil, fmt.Errorf("portal: database URL %s: %w", d.Redacted(), err)
	}
	if _, set := u.User.Password(); set || u.Query().Has("password") {
		return nil, ErrDatabasePassword
	}
	cfg, err := pgx.ParseConfig(d.URL)
	if err != nil {
		return nil, fmt.Errorf("portal: database URL %s: %w", d.Redacted(), err)
	}
	if d.PasswordFile != "" {
		if cfg.Password, err = readPasswordFile(d.PasswordFile); err != nil {
			return nil, err
		}
	}
	return &Store{db: sqldb.OpenPostgres(cfg, "paraphe-portal"), dialect: postgresDB}, nil
}

// readPasswordFile reads the database password (sqldb.ReadPasswordFile).
func readPasswordFile(path string) (string, error) {
	pw, err := sqldb.ReadPasswordFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasswordFile, err)
	}
	return pw, nil
}

// unreachable says a failure to connect in the operator's words: the
// database (password-free) and the server's or the network's reason.
func unreachable(d Database, err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	reason := strings.Join(strings.Fields(ce.Error()), " ")
	var pe *pgconn.PgError
	var ne *net.OpError
	switch {
	case errors.As(err, &pe):
		reason = pe.Message
	case errors.As(err, &ne):
		reason = ne.Error()
	}
	return &UnreachableError{Database: d.Redacted(), Reason: reason, Err: err}
}

// UnreachableError is a failure to connect to the database; it matches
// ErrDatabaseUnreachable.
type UnreachableError struct {
	Database string // password-free
	Reason   string // the network's or the server's word
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("portal: cannot connect to the database %s: %s", e.Database, e.Reason)
}
func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrDatabaseUnreachable }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// rebind writes q for the store's database (sqldb.Rebind).
func (s *Store) rebind(q string) string { return sqldb.Rebind(q, s.dialect == postgresDB) }

// querier is the store or one of its transactions.
type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, s.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, s.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, s.rebind(query), args...)
}

// maxTxAttempts bounds how often a transaction PostgreSQL gave up (a
// deadlock, a serialization failure) is run again.
const maxTxAttempts = 8

// tx runs f in one transaction (immediate on SQLite, READ COMMITTED on
// PostgreSQL, where f locks the rows it decides on), and again, whole,
// when PostgreSQL ends it to let a concurrent one through.
func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.try(ctx, f)
		var pe *pgconn.PgError
		retry := errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
		if !retry || attempt == maxTxAttempts || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(rand.IntN(attempt*5)+1) * time.Millisecond)
	}
}

func (s *Store) try(ctx context.Context, f func(*sql.Tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == postgresDB {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("portal: database: %w", err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("portal: database: %w", err)
	}
	return nil
}

// uniqueViolation reports whether err is the database refusing a second
// row where a UNIQUE constraint or index allows one, and names it.
func uniqueViolation(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName, pe.Code == "23505"
	}
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		_, what, _ := strings.Cut(err.Error(), "UNIQUE constraint failed: ")
		return what, true
	}
	return "", false
}
