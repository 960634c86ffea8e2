package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Dante is a real dante SOCKS5 server on a loopback port.
type Dante struct {
	Addr string // 127.0.0.1:PORT
	URL  string // socks5://127.0.0.1:PORT
}

// StartDante runs danted in the foreground on a free loopback port, letting
// clients on loopback reach loopback, and stops it when the test ends. It
// waits for dante's own "ready to serve" line, not for a delay.
func StartDante(t testing.TB) *Dante {
	t.Helper()
	Require(t, "danted")
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // dante binds the port itself
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`logoutput: stderr
internal: 127.0.0.1 port = %s
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }
`, port)
	cf := filepath.Join(dir, "danted.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("danted", "-f", cf, "-p", filepath.Join(dir, "danted.pid"), "-N", "1", "-d", "1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), "negotiate-child and ready to serve") {
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
			t.Fatal("danted did not start")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("danted did not start within 30 s")
	}
	if err := waitAccepting(addr, 10*time.Second); err != nil {
		t.Fatalf("danted logged that it is ready, but: %v", err)
	}
	return &Dante{Addr: addr, URL: "socks5://" + addr}
}
