package netcheck

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
)

func find(rep *Report, check Check) *Finding {
	for i := range rep.Findings {
		if rep.Findings[i].Check == check {
			return &rep.Findings[i]
		}
	}
	return nil
}

func policyFor(t *testing.T, path string, edit func(*config.Policy)) *config.Policy {
	t.Helper()
	p, err := config.ReadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(p)
	}
	return p
}

func TestHealthy(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	var mu sync.Mutex
	live := map[Check]int{}
	rep := Run(context.Background(), Options{Policy: policyFor(t, srv.Policy, nil), Timeout: 3 * time.Second,
		Found: func(f Finding) { mu.Lock(); live[f.Check]++; mu.Unlock() }})
	if rep.Verdict != Works || rep.Cause != nil {
		t.Fatalf("verdict %s: %+v", rep.Verdict, rep.Findings)
	}
	// Every finding was told as it was made, once.
	for _, f := range rep.Findings {
		live[f.Check]--
	}
	for check, n := range live {
		if n != 0 {
			t.Errorf("%s told %+d times more than reported", check, n)
		}
	}
	for _, check := range []Check{"proxy", "dns", "tcp", "tls", "service", "clock", "tsa", "crl", "ocsp"} {
		f := find(rep, check)
		if f == nil || f.Severity == Error || f.Severity == Warning {
			t.Errorf("%s: %+v", check, f)
		}
	}
	if f := find(rep, "tls"); f.Code != "verified" {
		t.Errorf("tls: %+v", f)
	}
}

func TestPortClosed(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	srv := testenv.StartCA(t, ca.InitOptions{})
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.CA.URL = "https://" + addr })
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Verdict != Blocked || rep.Cause == nil || rep.Cause.Check != "tcp" || rep.Cause.Code != "refused" {
		t.Fatalf("cause %+v", rep.Cause)
	}
}

// A TLS-inspecting middlebox: a server with its own root answers in the
// CA's place. The doctor names that root.
func TestInterception(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	mitm := httptest.NewUnstartedServer(http.NotFoundHandler())
	mitm.TLS = &tls.Config{}
	mitm.StartTLS()
	defer mitm.Close()
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.CA.URL = mitm.URL })
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	f := find(rep, "tls")
	if f == nil || f.Code != "intercepted" || f.Observed == "" || rep.Cause.Check != "tls" {
		t.Fatalf("tls %+v, cause %+v", f, rep.Cause)
	}
}

func TestClockSkew(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	p := policyFor(t, srv.Policy, nil)
	skewed := func() time.Time { return time.Now().Add(10 * time.Minute) }
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second, Now: skewed})
	f := find(rep, "clock")
	if f == nil || f.Severity != Error || f.Code != "skew" || rep.Cause.Check != "clock" {
		t.Fatalf("clock %+v, cause %+v", f, rep.Cause)
	}
}

func TestNoPolicy(t *testing.T) {
	// The test binary runs from a build folder, not a system one: that is
	// no installation at all.
	rep := Run(context.Background(), Options{})
	if rep.Verdict != Blocked || rep.Cause.Code != "not_installed" || rep.Cause.Fix != "install_admin_package" {
		t.Fatalf("%+v", rep.Cause)
	}
	// The packages' template is told apart: IT has to set the CA.
	rep = Run(context.Background(), Options{PolicyErr: fmt.Errorf("%w (/etc/paraphe/policy.json)", config.ErrUnconfigured)})
	if rep.Verdict != Blocked || rep.Cause.Code != "policy_unconfigured" || rep.Cause.Fix != "set_ca" {
		t.Fatalf("%+v", rep)
	}
}

func TestThroughSquid(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	_, caPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "https://"))
	port, _ := strconv.Atoi(caPort)
	tests := []struct {
		name    string
		opts    testenv.SquidOptions
		verdict Verdict
		code    Code
	}{
		{"open", testenv.SquidOptions{}, Works, "tunnel_open"},
		{"basic auth", testenv.SquidOptions{BasicAuth: "alice:s3cret"}, Blocked, "proxy_auth_required"},
		{"CA denied", testenv.SquidOptions{DenyPort: port}, Blocked, "proxy_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sq := testenv.StartSquid(t, tt.opts)
			p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = sq.URL })
			rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
			var connect *Finding
			for i := range rep.Findings {
				if rep.Findings[i].Check == "proxy" && rep.Findings[i].Code != "via_proxy" {
					connect = &rep.Findings[i]
				}
			}
			if rep.Verdict != tt.verdict || connect == nil || connect.Code != tt.code {
				t.Fatalf("verdict %s, connect %+v, findings %+v", rep.Verdict, connect, rep.Findings)
			}
			if tt.verdict == Blocked && rep.Cause.Code != tt.code {
				t.Fatalf("cause %+v", rep.Cause)
			}
			if tt.code == "proxy_auth_required" && connect.Observed != "Basic" {
				t.Fatalf("schemes offered: %q", connect.Observed)
			}
		})
	}
}

func TestThroughDante(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	d := testenv.StartDante(t)
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = d.URL })
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Verdict != Works {
		t.Fatalf("through dante: %s %+v", rep.Verdict, rep.Findings)
	}
	// A SOCKS5 proxy setting pointing at a closed port.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	p = policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = "socks5://" + closed })
	rep = Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Verdict != Blocked || rep.Cause == nil || rep.Cause.Target != closed || (rep.Cause.Code != "proxy_unreachable" && rep.Cause.Code != "refused") {
		t.Fatalf("closed SOCKS port: cause %+v", rep.Cause)
	}
}

// The checks run side by side: each waits at its start until all of them
// have started, which only concurrent checks can do.
func TestChecksRunConcurrently(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	p := policyFor(t, srv.Policy, nil)
	const checks = 5 // dns, tcp, tls, service, local
	var mu sync.Mutex
	started := 0
	all := make(chan struct{})
	testHookStart = func() {
		mu.Lock()
		started++
		if started == checks {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
			t.Error("a check waited for others that never started: checks run one after another")
		}
	}
	defer func() { testHookStart = func() {} }()
	local := func(context.Context) []Finding { return nil }
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second, Local: local})
	if rep.Verdict != Works || started != checks {
		t.Fatalf("%s, %d checks started", rep.Verdict, started)
	}
}

// A check that ignores its deadline (as a hung D-Bus call in the keychain
// would) does not hold the report: it is named as not answering, and the
// other checks still count.
func TestHungCheckDoesNotHoldTheReport(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	p := policyFor(t, srv.Policy, nil)
	release := make(chan struct{})
	defer close(release)
	hung := func(context.Context) []Finding {
		<-release
		return []Finding{{Check: "keystore", Severity: Error, Code: "late"}}
	}
	rep := Run(context.Background(), Options{Policy: p, Timeout: time.Second, Local: hung})
	f := find(rep, "keystore")
	if f == nil || f.Code != "check_timed_out" || f.Severity != Warning {
		t.Fatalf("keystore %+v, verdict %s, findings %+v", f, rep.Verdict, rep.Findings)
	}
	if find(rep, "tls") == nil || find(rep, "service") == nil {
		t.Fatalf("the other checks were lost: %+v", rep.Findings)
	}
}

// An intercepting proxy, as corporate TLS inspection works: it accepts the
// CONNECT, then answers the TLS handshake itself with a certificate for the
// CA's name issued by its own root. The doctor names that root.
func TestInterceptingProxy(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corporate Inspection Root", Organization: []string{"Example Corp"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, _ := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	leafDER, _ := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	cert := tls.Certificate{Certificate: [][]byte{leafDER, rootDER}, PrivateKey: leafKey}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				req, err := http.ReadRequest(br)
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
				tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}})
				tc.Handshake()
			}()
		}
	}()
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = "http://" + l.Addr().String() })
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	f := find(rep, "tls")
	if f == nil || f.Code != "intercepted" || !strings.Contains(f.Observed, "Corporate Inspection Root") || rep.Cause.Code != "intercepted" {
		t.Fatalf("tls %+v, cause %+v", f, rep.Cause)
	}
}

// Credentials stored in the keychain for the proxy open the tunnel; wrong
// ones are told apart from none.
func TestProxyCredentials(t *testing.T) {
	testenv.NeedSecretService(t)
	srv := testenv.StartCA(t, ca.InitOptions{})
	sq := testenv.StartSquid(t, testenv.SquidOptions{BasicAuth: "alice:s3cret"})
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = sq.URL })
	if err := netclient.SaveProxyCredentials(sq.Addr, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	defer netclient.DeleteProxyCredentials(sq.Addr)
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Verdict != Works {
		t.Fatalf("with credentials: %s %+v", rep.Verdict, rep.Findings)
	}
	for _, f := range rep.Findings {
		if strings.Contains(f.Observed+f.Target+fmt.Sprint(f.Details), "s3cret") {
			t.Fatalf("the password appears in the report: %+v", f)
		}
	}
	netclient.SaveProxyCredentials(sq.Addr, "alice", "wrong")
	rep = Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Cause == nil || rep.Cause.Code != "proxy_auth_rejected" {
		t.Fatalf("wrong credentials: %+v", rep.Cause)
	}
}

// A proxy named by a PAC file: the doctor follows it (through a real squid)
// and says where the setting came from; a PAC file that cannot be fetched
// is the cause.
func TestPAC(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	sq := testenv.StartSquid(t, testenv.SquidOptions{})
	pac := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		fmt.Fprintf(w, `function FindProxyForURL(url, host) {
			if (isInNet(host, "127.0.0.0", "255.0.0.0") && shExpMatch(url, "http*")) return "PROXY %s";
			return "DIRECT";
		}`, sq.Addr)
	}))
	defer pac.Close()
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = "pac+" + pac.URL + "/proxy.pac" })
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	via := find(rep, "proxy")
	if rep.Verdict != Works || via == nil || via.Code != "via_proxy" || via.Details["source"] != "pac" || !strings.Contains(via.Observed, sq.Addr) {
		t.Fatalf("through the PAC's proxy: %s %+v", rep.Verdict, rep.Findings)
	}
	p = policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = "pac+http://127.0.0.1:1/none.pac" })
	rep = Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Cause == nil || rep.Cause.Code != "pac_failed" {
		t.Fatalf("unreachable PAC: %+v", rep.Cause)
	}
}

// A firewall that drops packets (no answer at all) is told apart from a
// port where nothing listens (refused).
func TestDroppedConnection(t *testing.T) {
	addr := testenv.Blackhole(t)
	srv := testenv.StartCA(t, ca.InitOptions{})
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.CA.URL = "https://" + addr })
	rep := Run(context.Background(), Options{Policy: p, Timeout: time.Second})
	if rep.Verdict != Blocked || rep.Cause == nil || rep.Cause.Check != "tcp" || rep.Cause.Code != "filtered" || rep.Cause.Fix != "open_port" {
		t.Fatalf("cause %+v", rep.Cause)
	}
}

// A proxy that speaks NTLM only (a real squid, whose ntlm_fake_auth helper
// runs the real handshake and accepts any account): without credentials
// the doctor says which scheme it wants; with credentials in the keychain
// every request (tunnel, TLS, the CA's services) goes through.
func TestNTLMProxy(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "/usr/lib/squid/ntlm_fake_auth")
	srv := testenv.StartCA(t, ca.InitOptions{})
	sq := testenv.StartSquid(t, testenv.SquidOptions{NTLM: true})
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = sq.URL })
	netclient.DeleteProxyCredentials(sq.Addr)
	rep := Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Cause == nil || rep.Cause.Code != "proxy_auth_required" || rep.Cause.Observed != "NTLM" || rep.Cause.Fix != "proxy_credentials" {
		t.Fatalf("without credentials: %+v", rep.Cause)
	}
	if err := netclient.SaveProxyCredentials(sq.Addr, `EXAMPLE\alice`, "s3cret"); err != nil {
		t.Fatal(err)
	}
	defer netclient.DeleteProxyCredentials(sq.Addr)
	rep = Run(context.Background(), Options{Policy: p, Timeout: 3 * time.Second})
	if rep.Verdict != Works {
		t.Fatalf("with NTLM credentials: %s %+v", rep.Verdict, rep.Findings)
	}
	for _, check := range []Check{"tls", "service", "tsa"} {
		if f := find(rep, check); f == nil || f.Severity != OK {
			t.Fatalf("%s through the NTLM proxy: %+v", check, f)
		}
	}
}

// A PAC server that accepts the connection and never answers does not hold
// the report beyond the checks' timeout: the cause is the PAC file.
func TestPACNoAnswer(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	release := make(chan struct{})
	pac := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer pac.Close()
	defer close(release)
	p := policyFor(t, srv.Policy, func(p *config.Policy) { p.Proxy = "pac+" + pac.URL + "/hang.pac" })
	rep := Run(context.Background(), Options{Policy: p, Timeout: 200 * time.Millisecond})
	if rep.Cause == nil || rep.Cause.Code != "pac_failed" || rep.Cause.Fix != "check_pac" || !strings.Contains(rep.Cause.Observed, "no answer") {
		t.Fatalf("cause %+v", rep.Cause)
	}
}

// A CA (or the balancer before it) that answers 503: out of service for
// now, not something else answering in its place; the finding carries
// the wait it asks for.
func TestBusyCA(t *testing.T) {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "no server is available to handle this request", http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	sum := sha256.Sum256(ts.Certificate().Raw)
	p := config.DefaultPolicy()
	p.CA = config.CA{URL: ts.URL, Anchors: []string{hex.EncodeToString(sum[:])}}
	rep := Run(context.Background(), Options{Policy: &p, Timeout: 3 * time.Second})
	f := find(rep, "service")
	if f == nil || f.Code != CodeBusy || f.Fix != FixRetryLater || f.Observed != "30" || rep.Cause == nil || rep.Cause.Check != "service" {
		t.Fatalf("service %+v, cause %+v", f, rep.Cause)
	}
}
