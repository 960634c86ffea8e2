package ca

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"

	"github.com/paraphe/paraphe/internal/sqldb"
)

// The CA's records live in an SQLite file in the CA folder (the default:
// one server, a small office) or in a PostgreSQL database, which several
// paraphe-ca serve replicas may share with no coordination between them.
// The code is one for both, through database/sql: queries are written
// with ? placeholders, which the store numbers ($1, $2…) for PostgreSQL,
// and a read that precedes a write of the same row ends with FOR UPDATE,
// which PostgreSQL honours (a row lock) and SQLite, whose transactions
// are serial already (BEGIN IMMEDIATE), does without.
//
// What must be single is the database's to enforce: one certificate per
// reference (certs.ref_code UNIQUE), one successor per certificate
// (certs.predecessor UNIQUE), one renewal per coupon (coupons.used_by
// UNIQUE, spent by a conditional update). On PostgreSQL, transactions run
// at READ COMMITTED: each one locks the rows it decides on before reading
// them (so a second replica waits, then sees the first one's outcome),
// and one that loses a deadlock or a serialization check is run again,
// whole.

// DatabaseConfig says where the CA keeps its records (config.json's
// "database"): nothing for the SQLite file in the CA folder, or the URL of
// a PostgreSQL database. The password is never in the URL (a command line
// and a config file are read by others): it comes from PasswordFile (one
// line, mode 600), or, without it, from libpq's PGPASSFILE or ~/.pgpass;
// or no password at all, with peer authentication over a Unix socket
// (postgres:///ca?host=/run/postgresql).
type DatabaseConfig struct {
	URL          string `json:"url,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
}

// Errors of the database configuration.
var (
	// ErrDatabaseURL: the database URL is not a postgres:// URL.
	ErrDatabaseURL = errors.New("ca: the database URL is not a postgres:// URL")
	// ErrDatabasePassword: the database URL carries a password.
	ErrDatabasePassword = errors.New("ca: the database URL carries a password")
	// ErrPasswordFile: the database password file cannot be used.
	ErrPasswordFile = errors.New("ca: the database password file cannot be used")
	// ErrDatabaseInUse: Init found another CA's records in the database.
	ErrDatabaseInUse = errors.New("ca: the database already holds a CA's records")
	// ErrDatabaseUnreachable: no connection to the PostgreSQL database
	// (down, unreachable, or the credentials refused).
	ErrDatabaseUnreachable = errors.New("ca: cannot connect to the database")
)

// Validate checks the URL: postgres:// (or postgresql://), and no
// password in it.
func (c DatabaseConfig) Validate() error {
	if c.URL == "" {
		if c.PasswordFile != "" {
			return fmt.Errorf("%w: a password file without a database URL", ErrDatabaseURL)
		}
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return ErrDatabaseURL
	}
	if _, set := u.User.Password(); set || u.Query().Has("password") {
		return ErrDatabasePassword
	}
	return nil
}

// Redacted is the URL as it may be shown or logged.
func (c DatabaseConfig) Redacted() string {
	if c.URL == "" {
		return fileDB
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return "postgres://…"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// dialect is the kind of database.
type dialect int

const (
	sqliteDB dialect = iota
	postgresDB
)

func (d dialect) String() string { return [...]string{"sqlite", "postgres"}[d] }

// store is the CA database.
type store struct {
	db      *sql.DB
	dialect dialect
	// reads, on SQLite, are read-only connections beside db's one: the
	// reads of the hot paths (an OCSP status) run on several cores at
	// once and never wait for a writer's commit (WAL).
	reads *sql.DB
	stmts sync.Map // query → *sql.Stmt (prepared, on reads or db)
	// statuses keeps the OCSP statuses read, on SQLite, while the
	// database does not change (statuscache.go).
	statuses *statusCache
	path     string // SQLite's file
}

// connect opens the database of the CA in dir, without migrating it.
func connect(dir string, c DatabaseConfig) (*store, error) {
	if c.URL == "" {
		return openSQLite(filepath.Join(dir, fileDB))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(c.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDatabaseURL, c.Redacted(), err)
	}
	if c.PasswordFile != "" {
		pw, err := readPasswordFile(dir, c.PasswordFile)
		if err != nil {
			return nil, err
		}
		cfg.Password = pw
	}
	db := sqldb.OpenPostgres(cfg, "paraphe-ca")
	return &store{db: db, dialect: postgresDB}, nil
}

// readPasswordFile reads the database password (sqldb.ReadPasswordFile),
// path relative to the CA's folder.
func readPasswordFile(dir, path string) (string, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	pw, err := sqldb.ReadPasswordFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasswordFile, err)
	}
	return pw, nil
}

// openSQLite opens (creating it) an SQLite database. One connection
// serialises writers inside the process; transactions are BEGIN IMMEDIATE
// so that another process (an admin command next to a running server)
// waits instead of failing.
func openSQLite(path string) (*store, error) {
	db, err := sqldb.OpenSQLite(context.Background(), path)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	reads, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	// One per CPU, and the one the status cache keeps.
	reads.SetMaxOpenConns(runtime.NumCPU() + 1)
	reads.SetMaxIdleConns(runtime.NumCPU() + 1)
	return &store{db: db, dialect: sqliteDB, reads: reads, path: path}, nil
}

// openStore opens the CA's database and brings its schema up to date.
func openStore(ctx context.Context, dir string, c DatabaseConfig) (*store, error) {
	s, err := connect(dir, c)
	if err != nil {
		return nil, err
	}
	if _, err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, unreachable(c, err)
	}
	if s.reads != nil {
		s.statuses = newStatusCache(ctx, s.reads, s.path)
	}
	return s, nil
}

// UnreachableError is a failure to connect to the database; it matches
// ErrDatabaseUnreachable.
type UnreachableError struct {
	Database string // the URL, password-free
	Reason   string // the network's or the server's word
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("ca: cannot connect to the database %s: %s", e.Database, e.Reason)
}
func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrDatabaseUnreachable }

// unreachable is an *UnreachableError when err is a failure to connect
// to the database, or err.
func unreachable(c DatabaseConfig, err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	e := &UnreachableError{Database: c.Redacted(), Reason: strings.Join(strings.Fields(ce.Error()), " "), Err: err}
	var pe *pgconn.PgError
	var ne *net.OpError
	switch {
	case errors.As(err, &pe):
		e.Reason = pe.Message
	case errors.As(err, &ne):
		e.Reason = ne.Error()
	}
	return e
}

// openEmptyStore opens the database of a new CA: it must hold no other
// CA's records (a PostgreSQL database is shared by the replicas of one CA,
// never by two CAs).
func openEmptyStore(dir string, c DatabaseConfig) (*store, error) {
	s, err := openStore(context.Background(), dir, c)
	if err != nil {
		return nil, err
	}
	var n int
	if err := s.QueryRow(`SELECT (SELECT count(*) FROM root_certs) + (SELECT count(*) FROM holders)`).Scan(&n); err != nil {
		s.Close()
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	if n > 0 {
		s.Close()
		return nil, fmt.Errorf("%w: %s", ErrDatabaseInUse, c.Redacted())
	}
	return s, nil
}

func (s *store) Close() error {
	s.statuses.close()
	if s.reads != nil {
		s.reads.Close()
	}
	return s.db.Close()
}

// rebind writes q for the store's database (sqldb.Rebind).
func (s *store) rebind(q string) string { return sqldb.Rebind(q, s.dialect == postgresDB) }

// The queries of a store outside a transaction.

func (s *store) Exec(q string, args ...any) (sql.Result, error) {
	return s.db.Exec(s.rebind(q), args...)
}

func (s *store) QueryRow(q string, args ...any) *sql.Row { return s.db.QueryRow(s.rebind(q), args...) }

func (s *store) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.rebind(q), args...)
}

func (s *store) Query(q string, args ...any) (*sql.Rows, error) {
	return s.db.Query(s.rebind(q), args...)
}

func (s *store) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.rebind(q), args...)
}

// preparedRead is the statement of the read q, prepared once for the
// store's life, outside any transaction (on SQLite, on the read-only
// connections): for the query every OCSP request makes, which SQLite
// would otherwise parse again each time.
func (s *store) preparedRead(q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	db := s.db
	if s.reads != nil {
		db = s.reads
	}
	st, err := db.Prepare(s.rebind(q))
	if err != nil {
		return nil, err
	}
	if old, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// dbTx is a transaction of the store; its queries are the store's, in
// the transaction's context.
type dbTx struct {
	*sql.Tx
	s   *store
	ctx context.Context
}

func (t *dbTx) Exec(q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(t.ctx, t.s.rebind(q), args...)
}

func (t *dbTx) QueryRow(q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(t.ctx, t.s.rebind(q), args...)
}

func (t *dbTx) Query(q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(t.ctx, t.s.rebind(q), args...)
}

// forUpdate ends a query that reads a row the transaction q may then
// write: the row is locked until the transaction ends. Outside a
// transaction there is nothing to lock.
func forUpdate(q querier) string {
	if _, ok := q.(*dbTx); ok {
		return " FOR UPDATE"
	}
	return ""
}

// maxTxAttempts bounds how often a transaction that lost a deadlock or a
// serialization check (PostgreSQL) is run again.
const maxTxAttempts = 8

// tx runs f in one transaction, and again (whole: f must start from
// scratch each time) when PostgreSQL gives it up to let a concurrent one
// through. On SQLite it is an immediate transaction.
func (s *store) tx(ctx context.Context, f func(*dbTx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.try(ctx, f)
		if err == nil || !retryable(err) || attempt == maxTxAttempts || ctx.Err() != nil {
			return err
		}
		// A few milliseconds, growing and jittered, so that the two
		// do not meet again at once.
		time.Sleep(time.Duration(rand.IntN(attempt*5)+1) * time.Millisecond)
	}
}

func (s *store) try(ctx context.Context, f func(*dbTx) error) error {
	var opts *sql.TxOptions
	if s.dialect == postgresDB {
		// Whatever the server's default: the code locks what it decides on.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	if err := f(&dbTx{Tx: tx, s: s, ctx: ctx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return nil
}

// retryable reports whether PostgreSQL ended the transaction so that
// another could go through: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
