package postgres

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The server runs as another user than root, answers on loopback with the
// password of its password file only, and gives each caller a database of
// its own.
func TestServer(t *testing.T) {
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx := context.Background()
	var addr string
	if err := s.Admin().QueryRowContext(ctx, `SELECT current_setting('listen_addresses')`).Scan(&addr); err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1" {
		t.Errorf("listens on %q", addr)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)`).FindSubmatch(status); m == nil || string(m[1]) == "0" {
		t.Errorf("the server runs as root (%s)", m)
	}
	name, err := s.CreateDatabase(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	db, err := s.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE x (n int)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := s.DropDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = "not-the-password"
	wrong := stdlib.OpenDB(*cfg)
	defer wrong.Close()
	if err := wrong.PingContext(ctx); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Errorf("a wrong password: %v", err)
	}
}
