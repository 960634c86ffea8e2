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

// SquidOptions shape a test proxy.
type SquidOptions struct {
	// BasicAuth, when set as "user:password", makes squid ask for Basic
	// credentials (407).
	BasicAuth string
	// DenyPort makes squid refuse CONNECT to that port (403), as a proxy
	// whose allow list lacks the CA would.
	DenyPort int
}

// Squid is a real squid listening on a loopback port.
type Squid struct {
	Addr string // 127.0.0.1:PORT
	URL  string // http://127.0.0.1:PORT
}

// StartSquid runs squid in the foreground on a free loopback port and
// stops it when the test ends. It waits for squid's own "Accepting HTTP"
// line, not for a delay.
func StartSquid(t testing.TB, o SquidOptions) *Squid {
	t.Helper()
	Require(t, "squid")
	// squid and its helpers run as the proxy user, who cannot enter the
	// test's private temporary folders: use one of its own under /tmp.
	dir, err := os.MkdirTemp("", "paraphe-squid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // squid binds the port itself
	var conf strings.Builder
	fmt.Fprintf(&conf, "http_port %s\nvisible_hostname paraphe-test\npid_filename %s\ncache_log %s\naccess_log none\ncache deny all\ncoredump_dir %s\n",
		addr, filepath.Join(dir, "squid.pid"), filepath.Join(dir, "cache.log"), dir)
	conf.WriteString("acl localnet src 127.0.0.0/8\nacl CONNECT method CONNECT\n")
	if o.DenyPort != 0 {
		fmt.Fprintf(&conf, "acl denied port %d\nhttp_access deny CONNECT denied\n", o.DenyPort)
	}
	if o.BasicAuth != "" {
		user, pass, _ := strings.Cut(o.BasicAuth, ":")
		hash, err := exec.Command("openssl", "passwd", "-apr1", pass).Output()
		if err != nil {
			t.Fatal(err)
		}
		pw := filepath.Join(dir, "passwd")
		os.WriteFile(pw, []byte(user+":"+strings.TrimSpace(string(hash))+"\n"), 0o644)
		fmt.Fprintf(&conf, "auth_param basic program /usr/lib/squid/basic_ncsa_auth %s\nauth_param basic realm paraphe-test\nacl authed proxy_auth REQUIRED\nhttp_access deny !authed\n", pw)
	}
	conf.WriteString("http_access allow localnet\nhttp_access deny all\n")
	cf := filepath.Join(dir, "squid.conf")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	exec.Command("chown", "-R", "proxy:proxy", dir).Run()
	// A service name of its own: squids running side by side (parallel test
	// packages) would otherwise share their /dev/shm segments and clash.
	name := "paraphe" + strings.NewReplacer(".", "", ":", "").Replace(addr)
	cmd := exec.Command("squid", "-N", "-n", name, "-d", "1", "-f", cf)
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
			if !ok && strings.Contains(sc.Text(), "Accepting HTTP Socket connections") {
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
			t.Fatalf("squid did not start (see %s)", filepath.Join(dir, "cache.log"))
		}
	case <-time.After(30 * time.Second):
		t.Fatal("squid did not start within 30 s")
	}
	// squid logs "Accepting" once the port is bound, but its acceptor calls
	// listen() in a later event-loop turn: until then a connection is
	// refused. Wait for the port itself to accept.
	if err := waitAccepting(addr, 10*time.Second); err != nil {
		t.Fatalf("squid logged that it accepts connections, but: %v", err)
	}
	return &Squid{Addr: addr, URL: "http://" + addr}
}

// waitAccepting dials addr until a connection is accepted or the timeout
// passes: the readiness check for daemons whose log line comes before
// listen().
func waitAccepting(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
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
