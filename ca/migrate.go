package ca

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/paraphe/paraphe/internal/sqldb"
)

// The schema is a list of numbered migrations embedded in the binary,
// migrations/DIALECT/NNNN_name.sql, the same numbers and names for each
// database (their SQL differs where the databases do). schema_migrations
// records those applied. They run when the CA opens its database (so a
// new binary brings its schema with it) and with paraphe-ca migrate, each
// in a transaction of its own with its record: a crash leaves it applied
// or not at all. On PostgreSQL an advisory lock, taken first, makes
// replicas that start together apply each one once, the others waiting
// and then finding nothing left to do; SQLite's immediate transaction
// does the same.

//go:embed migrations
var migrationFiles embed.FS

// Migration is one step of the schema.
type Migration struct {
	Version int    `json:"version"`
	Name    string `json:"name"`
	sql     string
}

// ErrSchemaNewer: the database was migrated by a newer paraphe-ca than
// this one, which does not know its schema.
var ErrSchemaNewer = errors.New("ca: the database's schema is newer than this paraphe-ca")

// migrationLock is the PostgreSQL advisory lock of migrations ("paraphe!"
// in ASCII).
const migrationLock = 0x7061726170686521

// migrations returns the migrations of a dialect, in order.
func migrations(d dialect) ([]Migration, error) {
	read, err := sqldb.ReadMigrations(migrationFiles, path.Join("migrations", d.String()))
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	out := make([]Migration, len(read))
	for i, m := range read {
		out[i] = Migration{Version: m.Version, Name: m.Name, sql: m.SQL}
	}
	return out, nil
}

// MigrationStatus is what Migrate did.
type MigrationStatus struct {
	Database string      `json:"database"` // the database, password-free
	Version  int         `json:"version"`  // the schema's version now
	Applied  []Migration `json:"applied"`  // what this run applied
}

// Migrate brings the schema of the CA in dir up to date. Open does it
// too; this is for operators who want it done, and seen, before a new
// version of the server starts.
func Migrate(ctx context.Context, dir string) (*MigrationStatus, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	s, err := connect(dir, cfg.Database)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	applied, err := s.migrate(ctx)
	if err != nil {
		return nil, unreachable(cfg.Database, err)
	}
	st := &MigrationStatus{Database: cfg.Database.Redacted(), Applied: applied}
	if st.Applied == nil {
		st.Applied = []Migration{}
	}
	ms, _ := migrations(s.dialect)
	st.Version = len(ms)
	return st, nil
}

// migrate applies the migrations the database lacks and returns them.
func (s *store) migrate(ctx context.Context) ([]Migration, error) {
	ms, err := migrations(s.dialect)
	if err != nil {
		return nil, err
	}
	var applied []Migration
	for {
		m, err := s.migrateOne(ctx, ms)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return applied, nil
		}
		applied = append(applied, *m)
	}
}

// migrateOne applies the first migration the database lacks, if any, and
// returns it.
func (s *store) migrateOne(ctx context.Context, ms []Migration) (*Migration, error) {
	var next *Migration
	err := s.tx(ctx, func(tx *dbTx) error {
		next = nil
		if s.dialect == postgresDB {
			if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(?)`, int64(migrationLock)); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		var version int
		if err := tx.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if version > len(ms) {
			return fmt.Errorf("%w: version %d, this one knows %d (install the newer paraphe-ca)", ErrSchemaNewer, version, len(ms))
		}
		if version == len(ms) {
			return nil
		}
		m := ms[version]
		// The file as it is: no placeholders to number.
		if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("ca: database: migration %d (%s): %w", m.Version, m.Name, err)
		}
		if s.dialect == sqliteDB && m.Version == 1 {
			if err := addLegacyColumns(tx); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`INSERT INTO schema_migrations(version, name, applied) VALUES (?, ?, ?)`,
			m.Version, m.Name, time.Now().Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		next = &m
		return nil
	})
	return next, err
}

// legacyColumns were added to SQLite databases before migrations were
// numbered; a database made before them lacks them.
var legacyColumns = []struct{ table, column, decl string }{
	{"refs", "window_start", "INTEGER NOT NULL DEFAULT 0"},
	{"refs", "window_checks", "INTEGER NOT NULL DEFAULT 0"},
	{"holders", "seal", "INTEGER NOT NULL DEFAULT 0"},
	{"holders", "org_id", "TEXT NOT NULL DEFAULT ''"},
	{"holders", "country", "TEXT NOT NULL DEFAULT ''"},
}

func addLegacyColumns(tx *dbTx) error {
	for _, c := range legacyColumns {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if n == 0 {
			if _, err := tx.Exec("ALTER TABLE " + c.table + " ADD COLUMN " + c.column + " " + c.decl); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
	}
	return nil
}
