package netcheck

import (
	"context"
	"net"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
)

// dnsServer answers on a loopback UDP port: names ending in "missing.test."
// do not exist (NXDOMAIN), names ending in "silent.test." get no answer at
// all, "ca.test." is 127.0.0.1.
func dnsServer(t *testing.T) *net.Resolver { return dnsServerB(t) }

func dnsServerB(t testing.TB) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			name := q.Name.String()
			if len(name) >= 12 && name[len(name)-12:] == "silent.test." {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
			b.EnableCompression()
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			if name == "ca.test." {
				b.StartQuestions()
				b.Question(q)
				b.StartAnswers()
				if q.Type == dnsmessage.TypeA {
					b.AResource(rh, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
				}
			} else {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
				b.StartQuestions()
				b.Question(q)
			}
			msg, _ := b.Finish()
			pc.WriteTo(msg, from)
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestDNSNotFoundAndNoAnswer(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	res := dnsServer(t)
	for host, want := range map[string]Code{"ca.missing.test": "not_found", "ca.silent.test": "dns_timeout"} {
		p := policyFor(t, srv.Policy, func(p *config.Policy) { p.CA.URL = "https://" + host + ":8443" })
		rep := Run(context.Background(), Options{Policy: p, Timeout: 2 * time.Second, Resolver: res})
		f := find(rep, "dns")
		if f == nil || f.Code != want || rep.Cause == nil || rep.Cause.Check != "dns" {
			t.Errorf("%s: dns %+v, cause %+v", host, f, rep.Cause)
		}
	}
}

// BenchmarkBlocked runs the doctor with every probe blocked (a name server
// that never answers, a 1 s timeout): a run should take about the timeout,
// not the sum of the probes' timeouts.
func BenchmarkBlocked(b *testing.B) {
	srv := testenv.StartCA(b, ca.InitOptions{})
	res := dnsServerB(b)
	p, _ := config.ReadPolicy(srv.Policy)
	p.CA.URL = "https://ca.silent.test:8443"
	for range b.N {
		Run(context.Background(), Options{Policy: p, Timeout: time.Second, Resolver: res})
	}
}

// BenchmarkHealthy runs the doctor against a reachable CA.
func BenchmarkHealthy(b *testing.B) {
	srv := testenv.StartCA(b, ca.InitOptions{})
	p, _ := config.ReadPolicy(srv.Policy)
	for range b.N {
		Run(context.Background(), Options{Policy: p, Timeout: 5 * time.Second})
	}
}
