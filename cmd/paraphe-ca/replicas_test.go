package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/protocol"
)

// Replicas on one database (issue 15): two paraphe-ca serve processes on
// one PostgreSQL database behind a load balancer, 20 clients activating
// 1,000 references enrolled beforehand, one replica killed (SIGKILL) a
// third of the way through and started again. Every reference ends with
// exactly one certificate, the one its client holds (asserted in the
// database); the activations the kill broke are retried and complete;
// the audit trail verifies.
func TestReplicasSurviveAKill(t *testing.T) {
	testenv.Slow(t, "1,000 activations through two replicas, about a minute")
	const total, clients = 1000, 20
	bin, err := exec.LookPath("paraphe-ca") // this test binary, as testscript.Main installs it
	if err != nil {
		t.Fatal(err)
	}
	pg := testenv.Postgres(t)
	rs := newReplicaSet(t, bin, pg.URL("ca"), pg.Password)
	if _, err := pg.Admin().Exec(`CREATE DATABASE ca`); err != nil {
		t.Fatal(err)
	}
	rs.init(t)
	db, err := pg.Open("ca")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	refs := enrollMany(t, bin, rs.dir, db, total)
	for i := range rs.procs {
		rs.start(t, i)
	}
	policy := rs.policy(t)

	start := time.Now()
	issued, retried := activateAll(t, policy, refs, clients, func() { rs.kill(0) })
	if err := rs.restarted(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d activations in %s (%.1f/s) through two replicas, one killed and restarted; %d steps retried",
		len(issued), elapsed.Round(time.Millisecond), float64(len(issued))/elapsed.Seconds(), retried)
	for i, l := range rs.logs {
		if l != nil && l.String() != "" {
			t.Logf("replica %d logged errors:\n%s", i, l)
		}
	}
	if len(issued) != total {
		t.Fatalf("%d activations of %d completed", len(issued), total)
	}
	if retried == 0 {
		t.Error("the kill broke no activation in flight: the test proved nothing about retries")
	}
	// Clock ticks are 10 ms (USER_HZ 100).
	server := rs.killedTicks
	for _, p := range rs.procs {
		server += cpuTicks(t, p.Process.Pid)
	}
	t.Logf("CPU per activation: %.0f ms in the replicas, %.0f ms in the clients (this process)",
		float64(server)*10/total, float64(cpuTicks(t, os.Getpid()))*10/total)
	checkOneCertificateEach(t, db, issued)
	out, err := exec.Command(bin, "audit", "verify", "--dir", rs.dir).CombinedOutput()
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	t.Logf("audit verify: %s", strings.TrimSpace(string(out)))
	var n int
	db.QueryRow(`SELECT count(*) FROM audit WHERE event = 'certificate.issued'`).Scan(&n)
	if n != total {
		t.Errorf("%d issuances in the audit trail, want %d", n, total)
	}
}

// activateAll activates refs with that many clients at once, calls
// third (in a goroutine of its own, which it waits for) once a third of
// them are done, and returns the serial issued for each reference and
// the steps retried.
func activateAll(t *testing.T, policy *config.Policy, refs []string, clients int, third func()) (map[string]string, int64) {
	var done, retried atomic.Int64
	issued := make(map[string]string, len(refs)) // reference → serial
	var mu sync.Mutex
	work := make(chan string)
	thirdDone := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ref := range work {
				serial, retries, err := activate(policy, ref)
				if err != nil {
					t.Errorf("%s: %v", protocol.RedactRef(ref), err)
					continue
				}
				retried.Add(int64(retries))
				mu.Lock()
				issued[ref] = serial
				mu.Unlock()
				if done.Add(1) == int64(len(refs)/3) {
					close(thirdDone)
				}
			}
		})
	}
	called, finished := make(chan bool), make(chan struct{})
	go func() {
		select {
		case <-thirdDone:
			third()
			called <- true
		case <-finished: // too many failed for a third to complete
			called <- false
		}
	}()
	for _, ref := range refs {
		work <- ref
	}
	close(work)
	wg.Wait()
	close(finished)
	if !<-called {
		t.Fatalf("only %d activations of %d completed", done.Load(), len(refs))
	}
	return issued, retried.Load()
}

// activate runs one holder's activation against the balancer, retrying
// a step that the network broke (a replica killed under it) with the
// same key and authorization, as a well-behaved client does. It returns
// the certificate's serial and the steps it tried again.
func activate(policy *config.Policy, ref string) (string, int, error) {
	c, err := activation.New(policy, netclient.ClientOptions{Timeout: 30 * time.Second})
	if err != nil {
		return "", 0, err
	}
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tries := 0
	retry := func(step func() error) error {
		for {
			tries++
			err := step()
			if err == nil || !errors.Is(err, activation.ErrUnreachable) || tries > 20 {
				return err
			}
		}
	}
	var q *protocol.Questions
	if err := retry(func() (err error) { q, err = c.Questions(ctx, ref); return err }); err != nil {
		return "", tries, err
	}
	if len(q.Questions) != 3 {
		return "", tries, fmt.Errorf("questions %+v", q)
	}
	var auth *protocol.Authorization
	if err := retry(func() (err error) { auth, err = c.Answer(ctx, ref, testenv.Answers); return err }); err != nil {
		return "", tries, err
	}
	var serial string
	err = retry(func() error {
		chain, err := c.Enroll(ctx, ref, auth.Code, key)
		if err == nil {
			serial = fmt.Sprintf("%x", chain[0].SerialNumber)
		}
		return err
	})
	return serial, tries - 3, err
}

// checkOneCertificateEach asserts in the database that each reference
// has exactly one certificate, the one its client was given, and that
// there is no other.
func checkOneCertificateEach(t *testing.T, db *sql.DB, issued map[string]string) {
	t.Helper()
	rows, err := db.Query(`SELECT r.code, count(c.serial), min(c.serial) FROM refs r LEFT JOIN certs c ON c.ref_code = r.code GROUP BY r.code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var code, serial string
		var n int
		if err := rows.Scan(&code, &n, &serial); err != nil {
			t.Fatalf("reference %s: %v", protocol.RedactRef(code), err)
		}
		seen++
		if n != 1 || serial != issued[code] {
			t.Errorf("reference %s: %d certificates (%s), its client holds %q", protocol.RedactRef(code), n, serial, issued[code])
		}
	}
	var certs int
	db.QueryRow(`SELECT count(*) FROM certs`).Scan(&certs)
	if seen != len(issued) || certs != len(issued) {
		t.Errorf("%d references, %d certificates, %d activations", seen, certs, len(issued))
	}
}

// enrollMany enrols one holder with paraphe-ca enroll, then gives n-1
// more holders the same records in the database, each with a reference
// code of its own: the answers' Argon2id hashes are copied, not made
// again (3,000 of them would cost half a minute of both cores, which the
// activations need; the enrolment is tested elsewhere).
func enrollMany(t *testing.T, bin, dir string, db *sql.DB, n int) []string {
	t.Helper()
	cmd := exec.Command(bin, "enroll", "--dir", dir)
	cmd.Stdin = strings.NewReader(testenv.HolderJSON())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	refs := []string{testenv.LastLine(string(out))}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for range n - 1 {
		var id int64
		if err := tx.QueryRow(`INSERT INTO holders(name, title, member_number, organization, email, created)
			SELECT name, title, member_number, organization, email, created FROM holders WHERE id = 1 RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		code := protocol.NewRefCode()
		if _, err := tx.Exec(`INSERT INTO questions(holder_id, idx, question, answer_hash) SELECT $1, idx, question, answer_hash FROM questions WHERE holder_id = 1`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO refs(code, holder_id, created, expires, shown) SELECT $1, $2, created, expires, shown FROM refs WHERE holder_id = 1`, code, id); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, code)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return refs
}

// replicaSet is a CA folder served by two paraphe-ca serve processes,
// each on listening sockets of its own that the test keeps (socket
// activation, as systemd does): a replica started again takes the same
// ones, and connections made while it is down wait for it.
type replicaSet struct {
	bin, dir, dbURL, password string
	files                     [2][2]*os.File // per replica: HTTPS, plain HTTP
	addrs                     [2]string      // per replica: HTTPS
	procs                     [2]*exec.Cmd
	logs                      [2]*testenv.Buffer
	lb                        *testenv.Balancer
	restart                   chan error // the killed replica's start again
	killedTicks               int64      // the CPU the killed replica had used
}

func newReplicaSet(t *testing.T, bin, dbURL, password string) *replicaSet {
	rs := &replicaSet{bin: bin, dir: filepath.Join(t.TempDir(), "ca"), dbURL: dbURL, password: password}
	for i := range rs.files {
		for j := range rs.files[i] {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			if j == 0 {
				rs.addrs[i] = l.Addr().String()
			}
			f, err := l.(*net.TCPListener).File()
			l.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			rs.files[i][j] = f
		}
	}
	rs.lb = testenv.StartBalancer(t, rs.addrs[0], rs.addrs[1])
	t.Cleanup(rs.stop)
	return rs
}

// init makes the CA, its public URL the balancer's, its records in the
// database, the password in a file.
func (rs *replicaSet) init(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "db-password")
	if err := os.WriteFile(pw, []byte(rs.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rs.bin, "init", "--dir", rs.dir, "--url", "https://"+rs.lb.Addr, "--db", rs.dbURL, "--db-password-file", pw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
}

// start runs replica i and waits for it to say it listens.
func (rs *replicaSet) start(t *testing.T, i int) {
	if err := rs.run(i); err != nil {
		t.Fatal(err)
	}
}

func (rs *replicaSet) run(i int) error {
	// Each replica its own admin port: both run on this machine.
	cmd := exec.Command(rs.bin, "serve", "--dir", rs.dir, "--admin-addr", "127.0.0.1:0")
	cmd.ExtraFiles = rs.files[i][:]
	cmd.Env = append(os.Environ(), "LISTEN_FDS=2")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), `"msg":"listening"`) {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("replica %d did not start: %q", i, sc.Text())
	}
	log := &testenv.Buffer{}
	go func() {
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"level":"ERROR"`) {
				log.Write([]byte(sc.Text() + "\n"))
			}
		}
	}()
	rs.procs[i], rs.logs[i] = cmd, log
	return nil
}

// kill kills replica i (SIGKILL) mid-run and starts it again at once on
// the same sockets; restarted says how that went.
func (rs *replicaSet) kill(i int) {
	rs.restart = make(chan error, 1)
	rs.killedTicks, _ = procTicks(rs.procs[i].Process.Pid)
	rs.procs[i].Process.Signal(syscall.SIGKILL)
	rs.procs[i].Wait()
	rs.restart <- rs.run(i)
}

func (rs *replicaSet) restarted() error { return <-rs.restart }

func (rs *replicaSet) stop() {
	for _, p := range rs.procs {
		if p != nil && p.ProcessState == nil {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	}
}

// policy is the clients' policy: the balancer, the CA's root.
func (rs *replicaSet) policy(t *testing.T) *config.Policy {
	p, err := config.ReadPolicy(filepath.Join(rs.dir, "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
