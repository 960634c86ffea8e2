package main

import (
	"crypto/tls"
	"crypto/x509"
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

// cpuTicks is the CPU time a process has used, all threads, in clock
// ticks (/proc/PID/stat, utime + stime).
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	n, err := procTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func procTicks(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count from after it.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return utime + stime, nil
}

// 100 concurrent wrong answer sets on one reference, each from its own
// address (no per-address limit helps): the reference locks after 5, the
// server's CPU for the burst stays within 15 single checks, and answers
// on the locked reference cost no hashing.
func TestAnswerBurstCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	bin, err := exec.LookPath("paraphe-ca") // this test binary, as testscript.Main installs it
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartCAProcess(t, bin)
	enroll := func() string {
		cmd := exec.Command(bin, "enroll", "--dir", srv.Dir)
		cmd.Stdin = strings.NewReader(testenv.HolderJSON())
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("enroll: %v", err)
		}
		return testenv.LastLine(string(out))
	}
	target, probe := enroll(), enroll()
	rootPEM, err := os.ReadFile(filepath.Join(srv.Dir, "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(rootPEM)
	// wrong sends a wrong answer set from the loopback address 127.0.0.n
	// and returns the reply's error code.
	wrong := func(ref string, n int) string {
		hc := &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext:     (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n))}}).DialContext,
		}}
		defer hc.CloseIdleConnections()
		resp, err := hc.Post(srv.URL+protocol.ActivationPrefix+ref+"/answers", "application/json",
			strings.NewReader(`{"answers":["paris","medor","victor hugo"]}`))
		if err != nil {
			t.Error(err)
			return ""
		}
		defer resp.Body.Close()
		var buf [512]byte
		k, _ := resp.Body.Read(buf[:])
		return resp.Status + " " + string(buf[:k])
	}
	pid := srv.PID()
	// One check, three times, on another reference.
	before := cpuTicks(t, pid)
	for i := range 3 {
		if got := wrong(probe, 2+i); !strings.Contains(got, protocol.CodeWrongAnswers) {
			t.Fatalf("probe: %s", got)
		}
	}
	single := float64(cpuTicks(t, pid)-before) / 3

	before = cpuTicks(t, pid)
	var wg sync.WaitGroup
	var mu sync.Mutex
	replies := map[string]int{}
	for i := range 100 {
		wg.Go(func() {
			got := wrong(target, 10+i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case strings.Contains(got, `"attempts_left"`):
				replies["checked"]++
			case strings.Contains(got, protocol.CodeLocked):
				replies["refused as locked"]++
			default:
				replies[got]++
			}
		})
	}
	wg.Wait()
	burst := float64(cpuTicks(t, pid) - before)
	t.Logf("one check: %.1f ticks; the burst of 100: %.0f ticks (%.1f checks); replies %v", single, burst, burst/single, replies)
	if replies["checked"] != protocol.MaxAttempts || replies["refused as locked"] != 100-protocol.MaxAttempts {
		t.Errorf("replies %v: want %d checked, the rest refused as locked", replies, protocol.MaxAttempts)
	}
	if burst > 15*single {
		t.Errorf("the burst cost %.1f single checks of CPU, want at most 15", burst/single)
	}

	// The locked reference: twenty more sets cost less than one check.
	before = cpuTicks(t, pid)
	for i := range 20 {
		if got := wrong(target, 120+i); !strings.Contains(got, protocol.CodeLocked) || strings.Contains(got, "attempts_left") {
			t.Fatalf("answers on the locked reference: %s", got)
		}
	}
	if locked := float64(cpuTicks(t, pid) - before); locked >= single {
		t.Errorf("twenty answer sets on a locked reference cost %.1f single checks of CPU", locked/single)
	}
}
