package exchange

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "modernc.org/sqlite"

	"github.com/paraphe/paraphe/internal/sqldb"
)

// The exchange keeps its records in an SQLite file in its folder (the
// default) or in a PostgreSQL database that several replicas share, as
// paraphe-ca does: one code for both through database/sql, queries
// written with ? placeholders (numbered $1, $2… for PostgreSQL), and a
// read that precedes a write of the same row ends with FOR UPDATE, which
// PostgreSQL honours (a row lock, so that a second replica waits and then
// sees the first one's outcome) and SQLite, whose transactions are serial
// already (BEGIN IMMEDIATE), does without. What must happen once (an
// invitation used, a TOTP step taken, a parcel opened or destroyed) is a
// conditional update, which is atomic on both.
//
// The schema is a list of numbered migrations embedded in the binary,
// migrations/DIALECT/NNNN_name.sql, applied when the exchange opens its
// database, each in its own transaction with its record in
// schema_migrations; on PostgreSQL an advisory lock taken first makes
// replicas that start together apply each once.

//go:embed migrations
var migrationFiles embed.FS

// migrationLock is the PostgreSQL advisory lock of the exchange's
// migrations ("parcels!" in ASCII; the CA's is "paraphe!").
const migrationLock = 0x70617263656c7321

// Errors of the database.
var (
	// ErrDatabaseURL: the database setting is neither a file nor a
	// postgres:// URL without a password.
	ErrDatabaseURL = errors.New("exchange: the database is neither an SQLite file nor a postgres:// URL without a password")
	// ErrPasswordFile: the database password file cannot be used.
	ErrPasswordFile = errors.New("exchange: the database password file cannot be used")
	// ErrDatabaseInUse: Init found another exchange's records in the database.
	ErrDatabaseInUse = errors.New("exchange: the database already holds an exchange's records")
	// ErrDatabaseUnreachable: no connection to the PostgreSQL database.
	ErrDatabaseUnreachable = errors.New("exchange: cannot connect to the database")
	// ErrSchemaNewer: a newer paraphe-exchange migrated the database.
	ErrSchemaNewer = errors.New("exchange: the database's schema is newer than this paraphe-exchange")
)

type dialect int

const (
	sqliteDB dialect = iota
	postgresDB
)

func (d dialect) String() string { return [...]string{"sqlite", "postgres"}[d] }

// insertion is the column that orders a table's rows as they were
// inserted: SQLite's rowid, PostgreSQL's seq.
func (d dialect) insertion(table string) string {
	if d == postgresDB {
		return table + ".seq"
	}
	return table + ".rowid"
}

// isPostgres reports whether a database setting is a PostgreSQL URL.
func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// checkDatabaseURL refuses a URL that carries a password: a config file
// and a command line are read by others.
func checkDatabaseURL(database string) error {
	u, err := url.Parse(database)
	if err != nil {
		return ErrDatabaseURL
	}
	if _, set := u.User.Password(); set || u.Query().Has("password") {
		return fmt.Errorf("%w: give the password in a file (--db-password-file)", ErrDatabaseURL)
	}
	return nil
}

// redactedDatabase is the database setting as it may be shown.
func redactedDatabase(database string) string {
	if u, err := url.Parse(database); err == nil && isPostgres(database) {
		return u.Redacted()
	}
	return database
}

// store is the exchange's database: every SQL statement of the package is
// in store.go.
type store struct {
	db      *sql.DB
	dialect dialect
	name    string // the file, or the URL without a password
}

// openStore opens the database of the exchange in dir (c.Database, and
// c.DatabasePasswordFile) and brings its schema up to date.
func openStore(ctx context.Context, dir string, c *Config) (*store, error) {
	s, err := connect(dir, c)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, unreachable(c.Database, err)
	}
	return s, nil
}

func connect(dir string, c *Config) (*store, error) {
	if !isPostgres(c.Database) {
		return openSQLite(resolve(dir, c.Database))
	}
	if err := checkDatabaseURL(c.Database); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(c.Database)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDatabaseURL, redactedDatabase(c.Database), err)
	}
	if c.DatabasePasswordFile != "" {
		if cfg.Password, err = readPasswordFile(resolve(dir, c.DatabasePasswordFile)); err != nil {
			return nil, err
		}
	}
	db := sqldb.OpenPostgres(cfg, "paraphe-exchange")
	return &store{db: db, dialect: postgresDB, name: redactedDatabase(c.Database)}, nil
}

// readPasswordFile reads the database password (sqldb.ReadPasswordFile).
func readPasswordFile(path string) (string, error) {
	pw, err := sqldb.ReadPasswordFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasswordFile, err)
	}
	return pw, nil
}

// openSQLite opens (creating it) an SQLite database. One connection
// serialises writers inside the process; BEGIN IMMEDIATE makes another
// process (an operator's command beside a running server) wait instead of
// failing.
func openSQLite(path string) (*store, error) {
	db, err := sqldb.OpenSQLite(context.Background(), path)
	if err != nil {
		return nil, fmt.Errorf("exchange: database: %w", err)
	}
	return &store{db: db, dialect: sqliteDB, name: path}, nil
}

// UnreachableError is a failure to connect to the PostgreSQL database
// (down, unreachable, or the credentials refused); it matches
// ErrDatabaseUnreachable.
type UnreachableError struct {
	Database string // the URL, password-free
	Reason   string // the network's or the server's word
	Err      error
}

func (e *UnreachableError) Error() string {
	return "exchange: cannot connect to the database " + e.Database + ": " + e.Reason
}
func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrDatabaseUnreachable }

// unreachable is an *UnreachableError when err is a failure to connect,
// else err.
func unreachable(database string, err error) error {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return err
	}
	e := &UnreachableError{Database: redactedDatabase(database), Reason: strings.Join(strings.Fields(ce.Error()), " "), Err: err}
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

func (s *store) Close() error { return s.db.Close() }

// empty reports whether the database holds no exchange's records yet.
func (s *store) empty(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n == 0, err
}

func migrations(d dialect) ([]sqldb.Migration, error) {
	ms, err := sqldb.ReadMigrations(migrationFiles, path.Join("migrations", d.String()))
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, one transaction each.
func (s *store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return err
	}
	for done := false; !done; {
		err := s.tx(ctx, func(t *tx) (err error) { done, err = t.migrateOne(ms); return err })
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateOne applies the first migration the database lacks; done when
// there is none.
func (t *tx) migrateOne(ms []sqldb.Migration) (done bool, err error) {
	if t.s.dialect == postgresDB {
		if _, err := t.Exec(`SELECT pg_advisory_xact_lock(?)`, int64(migrationLock)); err != nil {
			return false, fmt.Errorf("exchange: database: %w", err)
		}
	}
	if _, err := t.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)`); err != nil {
		return false, fmt.Errorf("exchange: database: %w", err)
	}
	var version int
	if err := t.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return false, fmt.Errorf("exchange: database: %w", err)
	}
	if version > len(ms) {
		return false, fmt.Errorf("%w: version %d, this one knows %d (install the newer paraphe-exchange)", ErrSchemaNewer, version, len(ms))
	}
	if version == len(ms) {
		return true, nil
	}
	m := ms[version]
	if _, err := t.Tx.ExecContext(t.ctx, m.SQL); err != nil {
		return false, fmt.Errorf("exchange: database: migration %d (%s): %w", m.Version, m.Name, err)
	}
	if t.s.dialect == sqliteDB && m.Version == 1 {
		if err := t.addLegacyColumns(); err != nil {
			return false, err
		}
	}
	_, err = t.Exec(`INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`, m.Version, m.Name, time.Now().Unix())
	return false, err
}

// legacyColumns were added to SQLite databases before migrations were
// numbered; a database made before them lacks them.
var legacyColumns = []struct{ table, column, decl string }{
	{"users", "certificate", "BLOB"},
}

func (t *tx) addLegacyColumns() error {
	for _, c := range legacyColumns {
		var n int
		if err := t.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("exchange: database: %w", err)
		}
		if n == 0 {
			if _, err := t.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.column + ` ` + c.decl); err != nil {
				return fmt.Errorf("exchange: database: %w", err)
			}
		}
	}
	return nil
}

// rebind writes q for the store's database (sqldb.Rebind).
func (s *store) rebind(q string) string { return sqldb.Rebind(q, s.dialect == postgresDB) }

// tx is one transaction; the package's logic composes its methods.
type tx struct {
	*sql.Tx
	s   *store
	ctx context.Context
}

func (t *tx) Exec(q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) QueryRow(q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) Query(q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(t.ctx, t.s.rebind(q), args...)
}

// maxTxAttempts bounds how often a transaction PostgreSQL gave up (a
// deadlock, a serialization failure) is run again.
const maxTxAttempts = 8

// tx runs f in one transaction (immediate on SQLite, READ COMMITTED on
// PostgreSQL), and again, whole, when PostgreSQL gives it up to let a
// concurrent one through.
func (s *store) tx(ctx context.Context, f func(*tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.try(ctx, f)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || (pe.Code != "40001" && pe.Code != "40P01") || attempt == maxTxAttempts || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(rand.IntN(attempt*5)+1) * time.Millisecond) // jittered, growing: not to meet again at once
	}
}

func (s *store) try(ctx context.Context, f func(*tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == postgresDB {
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	t, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		if u := unreachable(s.name, err); u != err {
			return u
		}
		return fmt.Errorf("exchange: database: %w", err)
	}
	if err := f(&tx{Tx: t, s: s, ctx: ctx}); err != nil {
		t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("exchange: database: %w", err)
	}
	return nil
}
