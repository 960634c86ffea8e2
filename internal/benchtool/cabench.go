//go:build linux

package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	acts   map[string]activations // by row name
	ocspKA map[string]float64     // requests/s with keep-alive, by server
	tsa    map[string]float64
	// The tables' rows, printed at the end.
	actRows, ocspRows, tsaRows []string
	peaks                      []string // the replicas' peak RSS, by store
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
	fmt.Printf("The replicas' peak RSS over all their rows: %s\n", strings.Join(b.peaks, "; "))
	fmt.Printf("\nOCSP over HTTP: %d connections, %v a figure in %d rounds (the servers of a store in turn), the same client for each\n",
		benchConns, benchTime, benchRounds)
	fmt.Printf("server, requests about the certificates of the activations above, in turn; CPU per request: the server's, PostgreSQL's included\n")
	fmt.Printf("  %-38s %12s %10s %12s %10s %11s\n", "", "keep-alive", "CPU/req", "connection", "CPU/req", "load")
	fmt.Printf("  %-38s %12s %10s %12s %10s\n", "", "", "", "each", "")
	for _, r := range b.ocspRows {
		fmt.Println(r)
	}
	fmt.Printf("\nTime-stamps over HTTPS, keep-alive: %d connections, %v a figure in %d rounds; CPU per request: the server's\n", benchConns, benchTime, benchRounds)
	fmt.Printf("  %-24s %12s %10s %11s\n", "", "requests/s", "CPU/req", "load")
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
	if err := b.validation(c, rows); err != nil {
		return err
	}
	var peaks []string
	for _, pid := range c.pids() {
		peaks = append(peaks, fmt.Sprintf("%d MiB", peakMiB(pid)))
	}
	b.peaks = append(b.peaks, fmt.Sprintf("%s %s", name, strings.Join(peaks, ", ")))
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

// server is what a figure of OCSP or time-stamps is measured on: the
// addresses its connections go to, in turn, and the CPU it has used.
type server struct {
	name  string
	addrs []string
	used  func() time.Duration
}

// cell is one figure of a table: the requests served and the CPU they
// cost, added up over the rounds, and the load average around them.
type cell struct {
	r                   loadResult
	cpu                 time.Duration
	loadFirst, loadLast string
}

// measure runs the load l on each server, one after another, in rounds,
// a part of benchTime each time, so that a change in the load other
// programs put on the machine falls on every server alike; it returns
// the cells, by server.
func measure(servers []server, l load) []cell {
	cells := make([]cell, len(servers))
	for round := range benchRounds {
		for i, srv := range servers {
			c := &cells[i]
			if round == 0 {
				c.loadFirst = loadAverage()
			}
			l := l
			l.addrs, l.duration = srv.addrs, benchTime/benchRounds
			before := srv.used()
			r := l.run()
			c.cpu += srv.used() - before
			c.r.requests, c.r.failed, c.r.reconnects, c.r.elapsed = c.r.requests+r.requests, c.r.failed+r.failed,
				c.r.reconnects+r.reconnects, c.r.elapsed+r.elapsed
			if c.r.firstError == "" {
				c.r.firstError = r.firstError
			}
			c.loadLast = loadAverage()
		}
	}
	return cells
}

// validation measures OCSP and time-stamps on each row's replicas (on
// SQLite, next to openssl ocsp serving the same certificates), the
// connections spread over them.
func (b *caBench) validation(c *caUnderTest, rows []actRow) error {
	issuer, err := readCert(filepath.Join(c.dir, "issuing.pem"))
	if err != nil {
		return err
	}
	certs := rows[0].act.issued
	reqs, err := ocspRequests(certs, issuer)
	if err != nil {
		return err
	}
	var servers []server
	for _, r := range rows {
		for i := range r.replicas {
			if err := checkOCSP("http://"+c.http[i]+"/ocsp", reqs[0], certs[0], issuer); err != nil {
				return err
			}
		}
		servers = append(servers, server{name: r.name, addrs: c.http[:r.replicas], used: c.cpu(r.replicas)})
	}
	if c.pg == nil {
		stop, err := b.opensslServers(c.dir, issuer, certs, reqs, &servers)
		defer stop()
		if err != nil {
			return err
		}
	}
	progress(fmt.Sprintf("OCSP: %d servers", len(servers)))
	b.ocspTable(servers, reqs)
	return b.tsaTable(c, rows)
}

// cpu is the CPU the first n replicas have used, and PostgreSQL's, which
// each OCSP request asks for the certificate's status.
func (c *caUnderTest) cpu(n int) func() time.Duration {
	return func() time.Duration {
		d := cpuOf(c.pids()[:n]...)
		if c.pg != nil {
			d += treeCPU(c.pg.PID())
		}
		return d
	}
}

// ocspTable measures OCSP on servers with keep-alive and with a
// connection per request, and adds their rows.
func (b *caBench) ocspTable(servers []server, reqs [][]byte) {
	l := load{path: "/ocsp", ctype: "application/ocsp-request", bodies: reqs, conns: benchConns, minBody: 100}
	l.keepAlive = true
	ka := measure(servers, l)
	l.keepAlive = false
	each := measure(servers, l)
	for i, srv := range servers {
		name := srv.name
		if !strings.HasPrefix(name, "openssl") {
			name = "paraphe-ca, " + name
		}
		b.ocspKA[srv.name] = ka[i].r.perSecond()
		b.ocspRows = append(b.ocspRows, fmt.Sprintf("  %-38s %12s %10s %12s %10s %11s", name, rate(ka[i].r), perRequest(ka[i].cpu, ka[i].r.requests),
			rate(each[i].r), perRequest(each[i].cpu, each[i].r.requests), ka[i].loadFirst+"-"+each[i].loadLast))
		for _, c := range []cell{ka[i], each[i]} {
			if c.r.failed > 0 {
				b.ocspRows = append(b.ocspRows, fmt.Sprintf("    %s: %d failed: %s", name, c.r.failed, c.r.firstError))
			}
		}
	}
}

// opensslServers starts openssl ocsp on the certificates of dir, one
// process (as it runs by default) and two (-multi 2), signing with the
// same responder key and certificate, checks their answers, and adds them
// to servers; stop stops them.
func (b *caBench) opensslServers(dir string, issuer *x509.Certificate, certs []*x509.Certificate, reqs [][]byte, servers *[]server) (stop func(), err error) {
	var started []*opensslOCSP
	stop = func() {
		for _, o := range started {
			o.stop()
		}
	}
	for _, n := range []int{1, 2} {
		o, err := startOpenSSLOCSP(dir, filepath.Join(b.work, fmt.Sprintf("openssl-%d", n)), certs, n)
		if err != nil {
			return stop, err
		}
		started = append(started, o)
		if err := checkOCSP("http://"+o.addr, reqs[0], certs[0], issuer); err != nil {
			return stop, err
		}
		name := "openssl ocsp"
		if n > 1 {
			name += fmt.Sprintf(" -multi %d", n)
		}
		*servers = append(*servers, server{name: name, addrs: []string{o.addr}, used: func() time.Duration { return treeCPU(o.cmd.Process.Pid) }})
	}
	return stop, nil
}

// tsaTable measures time-stamps over TLS with keep-alive on each row's
// replicas, and adds their rows.
func (b *caBench) tsaTable(c *caUnderTest, rows []actRow) error {
	root, err := readCert(filepath.Join(c.dir, "root.pem"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	tc := &tls.Config{RootCAs: pool}
	reqs, err := tsaRequests(64)
	if err != nil {
		return err
	}
	var servers []server
	for _, r := range rows {
		if err := checkTSA("https://"+c.https[0]+"/tsa", tc, reqs[0]); err != nil {
			return err
		}
		servers = append(servers, server{name: r.name, addrs: c.https[:r.replicas], used: c.cpu(r.replicas)})
	}
	progress(fmt.Sprintf("time-stamps: %d servers", len(servers)))
	cells := measure(servers, load{tls: tc, path: "/tsa", ctype: "application/timestamp-query", bodies: reqs, keepAlive: true,
		conns: benchConns, minBody: 100})
	for i, srv := range servers {
		b.tsa[srv.name] = cells[i].r.perSecond()
		b.tsaRows = append(b.tsaRows, fmt.Sprintf("  %-24s %12s %10s %11s", srv.name, rate(cells[i].r), perRequest(cells[i].cpu, cells[i].r.requests),
			cells[i].loadFirst+"-"+cells[i].loadLast))
		if cells[i].r.failed > 0 {
			b.tsaRows = append(b.tsaRows, fmt.Sprintf("    %d failed: %s", cells[i].r.failed, cells[i].r.firstError))
		}
	}
	return nil
}

func rate(r loadResult) string { return fmt.Sprintf("%.0f/s", r.perSecond()) }

func perRequest(d time.Duration, n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(n))
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
