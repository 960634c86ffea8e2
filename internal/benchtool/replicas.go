//go:build linux

package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/internal/testenv/postgres"
	"github.com/paraphe/paraphe/protocol"
)

// caUnderTest is a CA folder served by up to two paraphe-ca serve
// processes (replicas, on one database), each on listening sockets this
// process made (socket activation, as systemd does), behind a balancer
// whose address is the CA's URL.
type caUnderTest struct {
	bin, dir string
	pg       *postgres.Server // nil: SQLite
	files    [2][2]*os.File   // per replica: HTTPS, plain HTTP
	https    [2]string
	http     [2]string
	procs    [2]*exec.Cmd
	lb       *testenv.Balancer
	db       *sql.DB
	ph       func(int) string // the database's placeholder for the nth argument
}

// newCA makes a CA in dir with paraphe-ca init: its records in SQLite,
// or in a new database of pg.
func newCA(bin, dir string, pg *postgres.Server) (*caUnderTest, error) {
	c := &caUnderTest{bin: bin, dir: dir, pg: pg, ph: func(int) string { return "?" }}
	for i := range c.files {
		for j := range c.files[i] {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			if j == 0 {
				c.https[i] = l.Addr().String()
			} else {
				c.http[i] = l.Addr().String()
			}
			f, err := l.(*net.TCPListener).File()
			l.Close()
			if err != nil {
				return nil, err
			}
			c.files[i][j] = f
		}
	}
	var err error
	if c.lb, err = testenv.NewBalancer(c.https[0]); err != nil {
		return nil, err
	}
	args := []string{"init", "--dir", dir, "--url", "https://" + c.lb.Addr, "--validation-url", "http://" + c.http[0]}
	if pg != nil {
		if _, err := pg.Admin().Exec(`CREATE DATABASE bench`); err != nil {
			return nil, err
		}
		pw := filepath.Join(filepath.Dir(dir), "db-password")
		if err := os.WriteFile(pw, []byte(pg.Password+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--db", pg.URL("bench"), "--db-password-file", pw)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("paraphe-ca init: %v\n%s", err, out)
	}
	if pg != nil {
		c.db, err = pg.Open("bench")
		c.ph = func(n int) string { return "$" + strconv.Itoa(n) }
	} else {
		c.db, err = sql.Open("sqlite", filepath.Join(dir, "ca.db"))
	}
	return c, err
}

// enroll enrols the test holder with paraphe-ca enroll, then gives n-1
// more holders the same records, each with a reference code of its own:
// the answers' Argon2id hashes are copied, not made again (n of them
// would cost the minutes the activations are measured in).
func (c *caUnderTest) enroll(n int) ([]string, error) {
	cmd := exec.Command(c.bin, "enroll", "--dir", c.dir)
	cmd.Stdin = strings.NewReader(testenv.HolderJSON())
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("paraphe-ca enroll: %w", err)
	}
	refs := []string{testenv.LastLine(string(out))}
	tx, err := c.db.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for range n - 1 {
		var id int64
		if err := tx.QueryRow(`INSERT INTO holders(name, title, member_number, organization, email, created)
			SELECT name, title, member_number, organization, email, created FROM holders WHERE id = 1 RETURNING id`).Scan(&id); err != nil {
			return nil, err
		}
		code := protocol.NewRefCode()
		if _, err := tx.Exec(`INSERT INTO questions(holder_id, idx, question, answer_hash) SELECT `+c.ph(1)+`, idx, question, answer_hash FROM questions WHERE holder_id = 1`, id); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(`INSERT INTO refs(code, holder_id, created, expires, shown) SELECT `+c.ph(1)+`, `+c.ph(2)+`, created, expires, shown FROM refs WHERE holder_id = 1`, code, id); err != nil {
			return nil, err
		}
		refs = append(refs, code)
	}
	return refs, tx.Commit()
}

// start runs replica i, its log in a file, and waits for it to say it
// listens; the balancer then sends connections to the replicas started.
func (c *caUnderTest) start(i int) error {
	logFile := filepath.Join(filepath.Dir(c.dir), fmt.Sprintf("replica-%d.log", i))
	f, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(c.bin, "serve", "--dir", c.dir, "--admin-addr", "127.0.0.1:0")
	cmd.ExtraFiles = c.files[i][:]
	cmd.Env = append(os.Environ(), "LISTEN_FDS=2")
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		return err
	}
	c.procs[i] = cmd
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		data, _ := os.ReadFile(logFile)
		line, _, _ := strings.Cut(string(data), "\n")
		if strings.Contains(line, `"msg":"listening"`) {
			break
		}
		if cmd.ProcessState != nil || time.Now().After(deadline) {
			return fmt.Errorf("replica %d did not start: %q", i, line)
		}
	}
	var up []string
	for j, p := range c.procs {
		if p != nil {
			up = append(up, c.https[j])
		}
	}
	c.lb.SetBackends(up...)
	return nil
}

// pids are the replicas running.
func (c *caUnderTest) pids() []int {
	var out []int
	for _, p := range c.procs {
		if p != nil {
			out = append(out, p.Process.Pid)
		}
	}
	return out
}

// stop stops the replicas (SIGTERM: they finish what is under way).
func (c *caUnderTest) stop() error {
	var errs []error
	for i, p := range c.procs {
		if p == nil {
			continue
		}
		p.Process.Signal(syscall.SIGTERM)
		if err := p.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
		}
		c.procs[i] = nil
	}
	return errors.Join(errs...)
}

// close stops everything and closes the sockets.
func (c *caUnderTest) close() {
	c.stop()
	c.lb.Close()
	if c.db != nil {
		c.db.Close()
	}
	for _, fs := range c.files {
		for _, f := range fs {
			f.Close()
		}
	}
}

// policy is the clients' machine policy: the balancer, the CA's root.
func (c *caUnderTest) policy() (*config.Policy, error) {
	return config.ReadPolicy(filepath.Join(c.dir, "policy.json"))
}
