package sqldb

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Migration is one numbered step of a server's schema: a file
// NNNN_name.sql of its embedded migrations.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ReadMigrations reads the migrations in dir of fsys, in order: the files
// must be numbered 1, 2, 3… with no gap, each NNNN_name.sql. How they are
// applied (the lock, the record, each server's own steps) is the server's.
func ReadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for i, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("migration %s/%s is not %04d_name.sql", dir, e.Name(), i+1)
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(data)})
	}
	return out, nil
}

// PostgresConns bounds a replica's connections: each request's
// transaction holds one for a few round trips.
const PostgresConns = 16

// OpenPostgres is the connection pool of cfg (password and all already
// in it), named app in pg_stat_activity unless the URL names it.
func OpenPostgres(cfg *pgx.ConnConfig, app string) *sql.DB {
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = app
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(PostgresConns)
	db.SetMaxIdleConns(PostgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db
}
