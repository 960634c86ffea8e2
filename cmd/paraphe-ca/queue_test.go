package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/protocol"
)

// A flood of answer requests from several processes, each request from an
// address of its own on a reference of its own (no per-address or
// per-reference limit helps), against a server whose line of answers
// waiting for a hashing slot is 4 long: every request is either checked
// (200) or refused with 503, code busy and a Retry-After; the line never
// grew beyond 4 (the metrics' peak) and was full; the replies match the
// server's counts; and the server's CPU is the checks it made, the
// refusals costing next to nothing.
func TestAnswerQueueUnderFlood(t *testing.T) {
	testenv.Slow(t, "640 answer requests from 4 processes")
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	const procs, clients, each, depth = 4, 16, 10, 4
	bin, err := exec.LookPath("paraphe-ca") // this test binary, as testscript.Main installs it
	if err != nil {
		t.Fatal(err)
	}
	flood, err := exec.LookPath("paraphe-ca-flood")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	srv := testenv.StartCAProcessWith(t, bin, testenv.CAProcessOptions{
		ServeArgs: []string{"--answer-queue", strconv.Itoa(depth)},
		Prepare: func(dir string) {
			db, err := sql.Open("sqlite", filepath.Join(dir, "ca.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			refs = enrollMany(t, bin, dir, db, 3+procs*clients*each)
		},
	})
	pid := srv.PID()
	root := filepath.Join(srv.Dir, "root.pem")

	// One check alone, three times.
	before := cpuTicks(t, pid)
	if out, err := exec.Command(flood, "-url", srv.URL, "-root", root, "-from", "127.3.255", "-clients", "1", refs[0], refs[1], refs[2]).Output(); err != nil ||
		!strings.Contains(string(out), `"ok":3,`) {
		t.Fatalf("three answer requests alone: %v %s", err, out)
	}
	single := float64(cpuTicks(t, pid)-before) / 3
	m0 := metrics(t, srv.AdminURL)

	before = cpuTicks(t, pid)
	var wg sync.WaitGroup
	results := make([]floodResult, procs)
	for p := range procs {
		args := []string{"-url", srv.URL, "-root", root, "-from", fmt.Sprintf("127.3.%d", p), "-clients", strconv.Itoa(clients)}
		args = append(args, refs[3+p*clients*each:3+(p+1)*clients*each]...)
		wg.Go(func() {
			out, err := exec.Command(flood, args...).Output()
			if err == nil {
				err = json.Unmarshal(out, &results[p])
			}
			if err != nil {
				t.Errorf("flood process %d: %v %s", p, err, out)
			}
		})
	}
	wg.Wait()
	burst := float64(cpuTicks(t, pid) - before)
	m := metrics(t, srv.AdminURL)

	var sum floodResult
	for _, r := range results {
		sum.OK += r.OK
		sum.Busy += r.Busy
		for k, v := range r.Other {
			if sum.Other == nil {
				sum.Other = map[string]int{}
			}
			sum.Other[k] += v
		}
	}
	checks := (m["paraphe_ca_answer_checks_total"] - m0["paraphe_ca_answer_checks_total"]) / 3
	t.Logf("%d checked, %d refused as busy; one check: %.1f ticks; the flood: %.0f ticks (%.1f checks' worth for %.0f checks); line peak %.0f of %.0f",
		sum.OK, sum.Busy, single, burst, burst/single, checks, m["paraphe_ca_answer_queue_peak"], m["paraphe_ca_answer_queue_limit"])
	if len(sum.Other) > 0 || sum.OK+sum.Busy != procs*clients*each {
		t.Errorf("replies other than 200 and 503 busy with Retry-After: %v (of %d requests)", sum.Other, procs*clients*each)
	}
	if sum.OK == 0 || sum.Busy == 0 {
		t.Errorf("%d checked, %d refused: the flood proved nothing", sum.OK, sum.Busy)
	}
	if peak, limit := m["paraphe_ca_answer_queue_peak"], m["paraphe_ca_answer_queue_limit"]; limit != depth || peak != depth {
		t.Errorf("the line's peak %.0f, its limit %.0f: want both %d", peak, limit, depth)
	}
	if refused := m[`paraphe_ca_failures_total{code="busy"}`]; int(refused) != sum.Busy {
		t.Errorf("the server counts %.0f refused as busy, the clients %d", refused, sum.Busy)
	}
	if int(checks) != sum.OK {
		t.Errorf("the server checked %.0f answer sets, the clients got %d authorizations", checks, sum.OK)
	}
	if burst > 1.5*single*checks+20 {
		t.Errorf("the flood cost %.0f ticks of CPU for %.0f checks of %.1f: the refusals are not cheap", burst, checks, single)
	}
}

// metrics reads the server's Prometheus metrics: name{labels} → value.
func metrics(t *testing.T, adminURL string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(adminURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); i > 0 && err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// floodResult is what a paraphe-ca-flood process saw.
type floodResult struct {
	OK    int            `json:"ok"`   // 200: an authorization
	Busy  int            `json:"busy"` // 503, code busy, Retry-After in seconds
	Other map[string]int `json:"other,omitempty"`
}

// floodMain is the command paraphe-ca-flood (see TestMain): -clients
// clients at once, each from its own loopback address (-from A.B.C, then
// .1, .2…), share the references given, one answer request (the test
// holder's right answers) per reference, a new connection each; it prints
// a floodResult.
func floodMain() {
	fs := flag.NewFlagSet("paraphe-ca-flood", flag.ExitOnError)
	url := fs.String("url", "", "the CA's URL")
	root := fs.String("root", "", "the CA's root.pem")
	from := fs.String("from", "127.3.0", "the first three bytes of the clients' addresses")
	clients := fs.Int("clients", 1, "clients at once")
	fs.Parse(os.Args[1:])
	pem, err := os.ReadFile(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	body, _ := json.Marshal(protocol.Answers{Answers: testenv.Answers})
	refs := fs.Args()
	var mu sync.Mutex
	res := floodResult{Other: map[string]int{}}
	var wg sync.WaitGroup
	for c := range *clients {
		wg.Go(func() {
			hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: roots},
				DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("%s.%d", *from, c+1))}}).DialContext}}
			for i := c; i < len(refs); i += *clients {
				outcome := floodOne(hc, *url+protocol.ActivationPrefix+refs[i]+"/answers", body)
				mu.Lock()
				switch outcome {
				case "ok":
					res.OK++
				case "busy":
					res.Busy++
				default:
					res.Other[outcome]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	json.NewEncoder(os.Stdout).Encode(res)
}

// floodOne sends one answer request and says how it went: ok, busy, or
// what else came back.
func floodOne(hc *http.Client, url string, body []byte) string {
	resp, err := hc.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var pe protocol.Error
	json.Unmarshal(data, &pe)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	switch {
	case resp.StatusCode == http.StatusOK:
		return "ok"
	case resp.StatusCode == http.StatusServiceUnavailable && pe.Code == protocol.CodeBusy && err == nil && retry >= 1:
		return "busy"
	}
	return fmt.Sprintf("%s %s Retry-After %q", resp.Status, pe.Code, resp.Header.Get("Retry-After"))
}
