package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/paraphe/paraphe/internal/testenv/postgres"
)

// The paraphe-ca rows of make bench: activations at 20 clients, OCSP next
// to openssl ocsp serving the same certificates, time-stamps; on SQLite
// and on PostgreSQL, one replica and two.
const (
	benchClients = 20
	benchWarmUp  = 20
	benchConns   = 16 // OCSP and TSA connections at once
)

// Set by benchtool ca's flags.
var (
	benchActivations = 200 // per row, after benchWarmUp
	benchTime        = 3 * time.Second
)

// caBench is one run of the paraphe-ca rows.
type caBench struct {
	bin, work string
	// What the targets are judged on.
	acts     map[string]activations // by row name
	ocspKA   map[string]float64     // requests/s with keep-alive, by server
	tsa      map[string]float64
	certs    []*x509.Certificate // issued on SQLite, for openssl ocsp
	sqliteCA string
	// The tables' rows, printed at the end.
	actRows, ocspRows, tsaRows []string
}

// runCA runs the paraphe-ca rows with the paraphe-ca binary bin.
func runCA(bin string) error {
	work, err := os.MkdirTemp("", "paraphe-ca-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &caBench{bin: bin, work: work, acts: map[string]activations{}, ocspKA: map[string]float64{}, tsa: map[string]float64{}}
	if err := b.store("SQLite", nil); err != nil {
		return err
	}
	var pg *postgres.Server
	if err := postgres.Available(); err != nil {
		b.actRows = append(b.actRows, "  PostgreSQL: not measured: "+err.Error())
	} else {
		if pg, err = postgres.Start(); err != nil {
			return err
		}
		defer pg.Stop()
		if err := b.store("PostgreSQL", pg); err != nil {
			return err
		}
	}
	if err := b.openssl(); err != nil {
		return err
	}
	b.print()
	return nil
}

// print prints the tables and the targets.
func (b *caBench) print() {
	fmt.Printf("\nparaphe-ca on this machine (%d CPUs, shared: the load average is given with each row)\n", runtime.NumCPU())
	fmt.Printf("Activations: %d per row after %d to warm up, %d clients at once (activation.Client in this process, through a TCP balancer),\n",
		benchActivations, benchWarmUp, benchClients)
	fmt.Printf("the rows of a store measured in %d rounds, a part of each in turn;\n", benchRounds)
	fmt.Printf("CPU per activation: the replicas', PostgreSQL's (all its processes), this process's (clients and balancer)\n")
	fmt.Printf("  %-24s %7s %8s %8s %11s %11s %11s %7s %5s %11s\n", "", "act/s", "p50", "p99", "server CPU", "database", "client CPU", "failed", "503", "load")
	for _, r := range b.actRows {
		fmt.Println(r)
	}
	fmt.Printf("\nOCSP over HTTP: %d connections, %v a column, the same client for each server (requests about %d certificates, in turn);\n",
		benchConns, benchTime, len(b.certs))
	fmt.Printf("CPU per request: the server's, PostgreSQL's included\n")
	fmt.Printf("  %-38s %12s %10s %12s %10s %5s\n", "", "keep-alive", "CPU/req", "connection", "CPU/req", "load")
	fmt.Printf("  %-38s %12s %10s %12s %10s\n", "", "", "", "each", "")
	for _, r := range b.ocspRows {
		fmt.Println(r)
	}
	fmt.Printf("\nTime-stamps over HTTPS, keep-alive: %d connections, %v; CPU per request: the server's\n", benchConns, benchTime)
	fmt.Printf("  %-24s %12s %10s %5s\n", "", "requests/s", "CPU/req", "load")
	for _, r := range b.tsaRows {
		fmt.Println(r)
	}
	b.targets()
}

// store measures a CA on SQLite (pg nil) or PostgreSQL: one replica, and
// on PostgreSQL two.
func (b *caBench) store(name string, pg *postgres.Server) error {
	dir := filepath.Join(b.work, name, "ca")
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	c, err := newCA(b.bin, dir, pg)
	if err != nil {
		return err
	}
	defer c.close()
	rows := []actRow{{name: name + ", 1 replica", replicas: 1}}
	if pg != nil {
		rows = append(rows, actRow{name: name + ", 2 replicas", replicas: 2})
	}
	refs, err := c.enroll(benchWarmUp + len(rows)*benchActivations)
	if err != nil {
		return err
	}
	for i := range rows {
		if err := c.start(i); err != nil {
			return err
		}
	}
	if err := b.activations(c, pg, rows, refs); err != nil {
		return err
	}
	for _, r := range rows {
		if pg == nil {
			b.certs, b.sqliteCA = r.act.issued, dir
		}
		c.lb.SetBackends(c.https[:r.replicas]...)
		if err := b.validation(c, r.name, r.replicas, r.act.issued); err != nil {
			return err
		}
	}
	return c.stop()
}

// actRow is a row of activations: its replicas, what it saw and the CPU
// it cost.
type actRow struct {
	name                string
	replicas            int
	act                 activations
	server, db, client  time.Duration
	loadFirst, loadLast string
}

// benchRounds: the rows of a table of activations are measured in turn,
// a part of each at a time, so that the load other programs put on the
// machine meanwhile falls on each alike.
const benchRounds = 4

// activations warms the replicas up, measures the rows (each through
// the balancer to its replicas, in rounds), and adds them to the table.
func (b *caBench) activations(c *caUnderTest, pg *postgres.Server, rows []actRow, refs []string) error {
	policy, err := c.policy()
	if err != nil {
		return err
	}
	c.lb.SetBackends(c.https[:rows[len(rows)-1].replicas]...)
	progress("activations: " + c.dir)
	if w := activateAll(policy, refs[:benchWarmUp], benchClients); w.failed > 0 {
		return fmt.Errorf("warming up: %s", w.firstError)
	}
	next := benchWarmUp
	for round := range benchRounds {
		for i := range rows {
			r := &rows[i]
			n := benchActivations / benchRounds
			if round == benchRounds-1 {
				n = benchActivations - (benchRounds-1)*n
			}
			c.lb.SetBackends(c.https[:r.replicas]...)
			if round == 0 {
				r.loadFirst = loadAverage()
			}
			server, client, db := cpuOf(c.pids()...), cpu(os.Getpid()), time.Duration(0)
			if pg != nil {
				db = treeCPU(pg.PID())
			}
			r.act.add(activateAll(policy, refs[next:next+n], benchClients))
			next += n
			r.server += cpuOf(c.pids()...) - server
			r.client += cpu(os.Getpid()) - client
			if pg != nil {
				r.db += treeCPU(pg.PID()) - db
			}
			r.loadLast = loadAverage()
		}
	}
	for _, r := range rows {
		b.addActRow(r, pg != nil)
		if r.act.done == 0 {
			return errors.New(r.name + ": no activation completed")
		}
	}
	return nil
}

// addActRow adds r to the table of activations.
func (b *caBench) addActRow(r actRow, dbApart bool) {
	act := r.act
	dbText := "in server"
	if dbApart {
		dbText = perActivation(r.db, act.done)
	}
	b.actRows = append(b.actRows, fmt.Sprintf("  %-24s %7.1f %8s %8s %11s %11s %11s %7d %5d %11s", r.name, act.perSecond(),
		seconds(act.percentile(.5)), seconds(act.percentile(.99)), perActivation(r.server, act.done), dbText,
		perActivation(r.client, act.done), act.failed, act.busy, r.loadFirst+"-"+r.loadLast))
	if act.firstError != "" {
		b.actRows = append(b.actRows, "    first failure: "+act.firstError)
	}
	b.acts[r.name] = act
}

// progress says on standard error what is being measured.
func progress(what string) {
	fmt.Fprintf(os.Stderr, "benchtool ca: %s (load average %s)\n", what, loadAverage())
}

func cpuOf(pids ...int) time.Duration {
	var d time.Duration
	for _, p := range pids {
		d += cpu(p)
	}
	return d
}

func perActivation(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f ms", float64(d.Milliseconds())/float64(n))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// validation measures OCSP and time-stamps on c's replicas running, the
// connections spread over them.
func (b *caBench) validation(c *caUnderTest, row string, replicas int, certs []*x509.Certificate) error {
	issuer, err := readCert(filepath.Join(c.dir, "issuing.pem"))
	if err != nil {
		return err
	}
	root, err := readCert(filepath.Join(c.dir, "root.pem"))
	if err != nil {
		return err
	}
	reqs, err := ocspRequests(certs, issuer)
	if err != nil {
		return err
	}
	httpAddrs, httpsAddrs := c.http[:replicas], c.https[:replicas]
	for i := range replicas {
		if err := checkOCSP("http://"+c.http[i]+"/ocsp", reqs[0], certs[0], issuer); err != nil {
			return err
		}
	}
	// The CPU each request costs: the replicas', and PostgreSQL's, which
	// each OCSP request asks for the certificate's status.
	servers := func() time.Duration {
		d := cpuOf(c.pids()[:replicas]...)
		if c.pg != nil {
			d += treeCPU(c.pg.PID())
		}
		return d
	}
	b.ocspKA[row] = b.ocspRow("paraphe-ca, "+row, httpAddrs, reqs, servers)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	tc := &tls.Config{RootCAs: pool}
	tsaReqs, err := tsaRequests(64)
	if err != nil {
		return err
	}
	if err := checkTSA("https://"+httpsAddrs[0]+"/tsa", tc, tsaReqs[0]); err != nil {
		return err
	}
	b.tsa[row] = b.tsaRow(row, httpsAddrs, tc, tsaReqs, servers)
	return nil
}

// ocspRow measures OCSP on addrs with keep-alive and with a connection
// per request, adds the row, and returns the requests/s with keep-alive;
// used is the CPU the servers have used.
func (b *caBench) ocspRow(name string, addrs []string, reqs [][]byte, used func() time.Duration) float64 {
	progress("OCSP: " + name)
	cells := []string{}
	var ka float64
	for _, keep := range []bool{true, false} {
		avg := loadAverage()
		before := used()
		r := (&load{addrs: addrs, path: "/ocsp", ctype: "application/ocsp-request", bodies: reqs, keepAlive: keep,
			conns: benchConns, duration: benchTime, minBody: 100}).run()
		cells = append(cells, rate(r), perRequest(used()-before, r.requests))
		if keep {
			ka = r.perSecond()
		}
		if r.failed > 0 {
			b.ocspRows = append(b.ocspRows, fmt.Sprintf("    %s: %d failed: %s", name, r.failed, r.firstError))
		}
		cells = append(cells, avg)
	}
	b.ocspRows = append(b.ocspRows, fmt.Sprintf("  %-38s %12s %10s %12s %10s %5s", name, cells[0], cells[1], cells[3], cells[4], cells[2]))
	return ka
}

// tsaRow measures time-stamps on addrs over TLS with keep-alive, adds
// the row and returns the requests/s.
func (b *caBench) tsaRow(name string, addrs []string, tc *tls.Config, reqs [][]byte, used func() time.Duration) float64 {
	progress("time-stamps: " + name)
	avg := loadAverage()
	before := used()
	r := (&load{addrs: addrs, tls: tc, path: "/tsa", ctype: "application/timestamp-query", bodies: reqs, keepAlive: true,
		conns: benchConns, duration: benchTime, minBody: 100}).run()
	b.tsaRows = append(b.tsaRows, fmt.Sprintf("  %-24s %12s %10s %5s", name, rate(r), perRequest(used()-before, r.requests), avg))
	if r.failed > 0 {
		b.tsaRows = append(b.tsaRows, fmt.Sprintf("    %d failed: %s", r.failed, r.firstError))
	}
	return r.perSecond()
}

func rate(r loadResult) string { return fmt.Sprintf("%.0f/s", r.perSecond()) }

func perRequest(d time.Duration, n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(n))
}

// openssl measures openssl ocsp serving the certificates issued on
// SQLite, signed with the same responder key and certificate: one
// process (as it runs by default), then two (-multi 2).
func (b *caBench) openssl() error {
	issuer, err := readCert(filepath.Join(b.sqliteCA, "issuing.pem"))
	if err != nil {
		return err
	}
	reqs, err := ocspRequests(b.certs, issuer)
	if err != nil {
		return err
	}
	for _, n := range []int{1, 2} {
		o, err := startOpenSSLOCSP(b.sqliteCA, b.work, b.certs, n)
		if err != nil {
			return err
		}
		err = checkOCSP("http://"+o.addr, reqs[0], b.certs[0], issuer)
		if err == nil {
			name := "openssl ocsp"
			if n > 1 {
				name += fmt.Sprintf(" -multi %d", n)
			}
			b.ocspKA[name] = b.ocspRow(name, []string{o.addr}, reqs, func() time.Duration { return treeCPU(o.cmd.Process.Pid) })
		}
		o.stop()
		if err != nil {
			return err
		}
	}
	return nil
}

// targets says how the figures compare with the targets (DESIGN.md,
// issue 15).
func (b *caBench) targets() {
	fmt.Println("\nTargets on this machine:")
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	paraphe, openssl := b.ocspKA["SQLite, 1 replica"], b.ocspKA["openssl ocsp"]
	if openssl > 0 {
		fmt.Printf("  OCSP with keep-alive at least 3x openssl ocsp: %.1fx (%s)\n", paraphe/openssl, verdict(paraphe >= 3*openssl))
	}
	tsa := b.tsa["SQLite, 1 replica"]
	fmt.Printf("  time-stamps not below 4,500/s: %.0f/s (%s)\n", tsa, verdict(tsa >= 4500))
	for _, row := range []string{"SQLite, 1 replica", "PostgreSQL, 1 replica", "PostgreSQL, 2 replicas"} {
		a, ok := b.acts[row]
		if !ok {
			continue
		}
		p99 := a.percentile(.99)
		fmt.Printf("  %s: activation p99 at most 1.5 s at %d clients, none failed but by 503: %s, %d failed (%s)\n",
			row, benchClients, seconds(p99), a.failed, verdict(p99 <= 1500*time.Millisecond && a.failed == 0))
	}
	one, two := b.acts["PostgreSQL, 1 replica"], b.acts["PostgreSQL, 2 replicas"]
	if one.done > 0 && two.done > 0 {
		ratio := two.perSecond() / one.perSecond()
		fmt.Printf("  two replicas on one database no slower than one (within 5%%: the same two cores): %.2fx (%s)\n", ratio, verdict(ratio >= 0.95))
	}
}
