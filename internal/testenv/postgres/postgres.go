// Package postgres starts a throw-away PostgreSQL server for tests, with
// the repository's scripts/postgres.sh (initdb into a temporary folder, the
// server on a loopback port as an unprivileged user), and makes a fresh
// database for each test that asks.
//
// It is a package of its own, below internal/testenv, so that the ca
// package's own tests (which testenv, importing ca, cannot serve) run on
// PostgreSQL too; testenv wraps it for everyone else (testenv.Postgres).
package postgres

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ErrNotInstalled: Debian's postgresql package is not installed.
var ErrNotInstalled = errors.New("PostgreSQL is not installed (scripts/deps.sh installs the postgresql package)")

// Server is a running PostgreSQL server. Its superuser is "paraphe",
// whose password is in PasswordFile (never on a command line).
type Server struct {
	Dir          string // its folder: data/, run/, password
	Addr         string // 127.0.0.1:PORT
	PasswordFile string
	Password     string

	cmd    *exec.Cmd
	stderr *logBuffer
	done   chan struct{} // closed when its standard error is read to its end
	admin  *sql.DB       // to the "postgres" database, as the superuser
	n      atomic.Int64
}

// Available reports why no server can start here, or nil.
func Available() error {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 && os.Getenv("PARAPHE_PG_BIN") == "" {
		return ErrNotInstalled
	}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			return errors.New("PostgreSQL refuses to run as root, and setpriv (util-linux), which runs it as another user, is missing")
		}
	}
	return nil
}

// Start initialises a server in a new temporary folder and runs it on a
// free loopback port until Stop. The server also ends if this process
// does (it is started with a parent-death signal).
func Start() (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	script, err := scriptPath()
	if err != nil {
		return nil, err
	}
	// The server's user must enter the folder: not a 0700 one of ours.
	dir, err := os.MkdirTemp("", "paraphe-postgres-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, PasswordFile: filepath.Join(dir, "password"), stderr: &logBuffer{}, done: make(chan struct{})}
	if err := s.start(script); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(script string) error {
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command(script, "init", s.Dir).CombinedOutput(); err != nil {
		return fmt.Errorf("postgres.sh init: %v\n%s", err, out)
	}
	pw, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return err
	}
	s.Password = strings.TrimSpace(string(pw))
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Addr = net.JoinHostPort("127.0.0.1", port)
	s.cmd = exec.Command(script, "run", s.Dir, port)
	endsWithParent(s.cmd)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	if err := s.waitReady(stderr); err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(s.URL("postgres"))
	if err != nil {
		return err
	}
	cfg.Password = s.Password
	s.admin = stdlib.OpenDB(*cfg)
	return s.admin.Ping()
}

// waitReady reads the server's log until it says it accepts
// connections, then waits for the port itself.
func (s *Server) waitReady(stderr interface{ Read([]byte) (int, error) }) error {
	ready := make(chan bool, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		ok := false
		for sc.Scan() {
			s.stderr.add(sc.Text())
			if !ok && strings.Contains(sc.Text(), "database system is ready to accept connections") {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			return fmt.Errorf("postgres did not start:\n%s", s.stderr)
		}
	case <-time.After(60 * time.Second):
		return fmt.Errorf("postgres did not start within 60 s:\n%s", s.stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Stop stops the server (a fast shutdown) and removes its folder.
func (s *Server) Stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
		}
		s.cmd.Wait()
	}
	os.RemoveAll(s.Dir)
}

// PID is the server's (postmaster's) process id; each connection is
// served by a child process of it.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log is what the server wrote to its standard error.
func (s *Server) Log() string { return s.stderr.String() }

// URL is the URL of database db as the superuser, without the password.
func (s *Server) URL(db string) string {
	return "postgres://paraphe@" + s.Addr + "/" + db + "?sslmode=disable"
}

// Admin is a connection pool to the "postgres" database as the superuser.
func (s *Server) Admin() *sql.DB { return s.admin }

// CreateDatabase makes a new, empty database and returns its name.
func (s *Server) CreateDatabase(ctx context.Context, prefix string) (string, error) {
	name := fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), s.n.Add(1))
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return name, nil
}

// DropDatabase removes a database, closing whatever connection is left.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	_, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Open is a connection pool to database db as the superuser.
func (s *Server) Open(db string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(s.URL(db))
	if err != nil {
		return nil, err
	}
	cfg.Password = s.Password
	return stdlib.OpenDB(*cfg), nil
}

// scriptPath is scripts/postgres.sh of the repository above the current
// folder (a test's package folder).
func scriptPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "postgres.sh"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("postgres: no go.mod above the test's folder")
		}
		dir = parent
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close() // the server binds it itself
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// logBuffer keeps the server's last lines of log.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) == 200 {
		b.lines = b.lines[1:]
	}
	b.lines = append(b.lines, line)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// TwoPasses is m, whose Run runs a package's tests twice: on SQLite
// (*current nil), then on a PostgreSQL server of this package for the
// whole pass (*current), when PostgreSQL is installed; in CI it must be.
// pkg names the package in what it prints. With -short (make check) the
// PostgreSQL pass is left out.
func TwoPasses(m interface{ Run() int }, pkg string, current **Server) interface{ Run() int } {
	return twoPasses{m, pkg, current}
}

type twoPasses struct {
	m       interface{ Run() int }
	pkg     string
	current **Server
}

func (p twoPasses) Run() int {
	flag.Parse()
	code := p.m.Run()
	if testing.Short() {
		// make check: the quick loop runs on SQLite; make test on both.
		fmt.Printf("%s: -short: the tests ran on SQLite only (make test runs them on PostgreSQL too)\n", p.pkg)
		return code
	}
	if err := Available(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: the tests ran on SQLite only: %v\n", p.pkg, err)
		if os.Getenv("CI") == "true" {
			code = max(code, 1)
		}
		return code
	}
	srv, err := Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: PostgreSQL did not start: %v\n", p.pkg, err)
		return max(code, 1)
	}
	defer srv.Stop()
	fmt.Printf("%s: the same tests on PostgreSQL (%s)\n", p.pkg, srv.Addr)
	*p.current = srv
	defer func() { *p.current = nil }()
	return max(code, p.m.Run())
}

// TestDatabase makes a new database for t, dropped when t ends, and
// writes the password to a file of its own (mode 600): it returns the
// database's URL (without the password) and that file. A failure on it
// logs "store: PostgreSQL".
func (s *Server) TestDatabase(t testing.TB, prefix string) (url, passwordFile string) {
	t.Helper()
	ctx := context.Background()
	name, err := s.CreateDatabase(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.DropDatabase(ctx, name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	t.Logf("store: PostgreSQL, database %s", name)
	passwordFile = filepath.Join(t.TempDir(), "db-password")
	if err := os.WriteFile(passwordFile, []byte(s.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s.URL(name), passwordFile
}
