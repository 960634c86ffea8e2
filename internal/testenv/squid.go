package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SquidOptions shape a test proxy.
type SquidOptions struct {
	// BasicAuth, when set as "user:password", makes squid ask for Basic
	// credentials (407).
	BasicAuth string
	// NTLM makes squid ask for NTLM (only) with squid's ntlm_fake_auth
	// helper: the handshake is real, any user and password pass.
	NTLM bool
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
	if o.NTLM {
		conf.WriteString("auth_param ntlm program /usr/lib/squid/ntlm_fake_auth\nauth_param ntlm children 2\nacl authed proxy_auth REQUIRED\nhttp_access deny !authed\n")
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
	// squid logs "Accepting" once the port is bound, but its acceptor calls
	// listen() in a later event-loop turn: startDaemon also waits for the
	// port itself.
	startDaemon(t, cmd, "Accepting HTTP Socket connections", addr, filepath.Join(dir, "cache.log"))
	return &Squid{Addr: addr, URL: "http://" + addr}
}
