package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
	startDaemon(t, cmd, "negotiate-child and ready to serve", addr, "its standard error")
	return &Dante{Addr: addr, URL: "socks5://" + addr}
}
