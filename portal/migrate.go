package portal

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/paraphe/paraphe/internal/sqldb"
)

// The schema is a list of numbered migrations embedded in the binary,
// migrations/DIALECT/NNNN_name.sql, the same numbers and names for each
// database; schema_migrations records those applied. They run when the
// portal opens its database, each in a transaction of its own with its
// record. On PostgreSQL an advisory lock, taken first, makes replicas that
// start together apply each one once, the others waiting and then finding
// nothing left to do; SQLite's immediate transaction does the same.

//go:embed migrations
var migrationFiles embed.FS

// ErrSchemaNewer: a newer paraphe-portal migrated the database.
var ErrSchemaNewer = errors.New("portal: the database's schema is newer than this paraphe-portal")

// migrationLock is the PostgreSQL advisory lock of the portal's
// migrations ("portal!!" in ASCII; paraphe-ca's is another).
const migrationLock = 0x706f7274616c2121

func migrations(d dialect) ([]sqldb.Migration, error) {
	ms, err := sqldb.ReadMigrations(migrationFiles, path.Join("migrations", d.String()))
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	return ms, nil
}

// migrate applies the migrations the database lacks.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return err
	}
	for {
		done, err := s.migrateOne(ctx, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the first migration the database lacks; done when
// there was none.
func (s *Store) migrateOne(ctx context.Context, ms []sqldb.Migration) (done bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		done = false
		if s.dialect == postgresDB {
			if _, err := s.exec(ctx, tx, `SELECT pg_advisory_xact_lock(?)`, int64(migrationLock)); err != nil {
				return fmt.Errorf("portal: database: %w", err)
			}
		}
		if _, err := s.exec(ctx, tx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		var version int
		if err := s.queryRow(ctx, tx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		if version > len(ms) {
			return fmt.Errorf("%w: version %d, this one knows %d (install the newer paraphe-portal)", ErrSchemaNewer, version, len(ms))
		}
		if version == len(ms) {
			done = true
			return nil
		}
		m := ms[version]
		// The file as it is: no placeholders to number.
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("portal: database: migration %d (%s): %w", m.Version, m.Name, err)
		}
		_, err := s.exec(ctx, tx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`, m.Version, m.Name, time.Now().Unix())
		if err != nil {
			return fmt.Errorf("portal: database: %w", err)
		}
		return nil
	})
	return done, err
}
