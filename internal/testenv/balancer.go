package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Balancer is a TCP load balancer on loopback in front of servers
// (replicas of paraphe-ca): each connection goes to the next backend in
// turn, or the one after when that one refuses it. It keeps the clients'
// connections apart the way a transparent balancer keeps its clients'
// addresses: each connection reaches its backend from a loopback address
// of its own (127.1.x.y), so that per-address limits see many clients,
// not one balancer.
type Balancer struct {
	Addr     string // 127.0.0.1:PORT
	backends []string
	active   []atomic.Int64
	next     atomic.Uint64
	source   atomic.Uint32
	l        net.Listener
	wg       sync.WaitGroup
}

// StartBalancer balances connections between backends (host:port) until
// the test ends.
func StartBalancer(t testing.TB, backends ...string) *Balancer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &Balancer{Addr: l.Addr().String(), backends: backends, active: make([]atomic.Int64, len(backends)), l: l}
	b.wg.Add(1)
	go b.serve()
	t.Cleanup(func() {
		l.Close()
		b.wg.Wait()
	})
	return b
}

// Active is the number of connections open to backend i.
func (b *Balancer) Active(i int) int64 { return b.active[i].Load() }

func (b *Balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.l.Accept()
		if err != nil {
			return
		}
		go b.relay(c)
	}
}

// sourceAddr is the next loopback address to connect from: 127.1.0.1,
// 127.1.0.2… (never .0 nor .255).
func (b *Balancer) sourceAddr() *net.TCPAddr {
	n := b.source.Add(1)
	return &net.TCPAddr{IP: net.IPv4(127, byte(1+n/(254*256)%126), byte(n/254%256), byte(1+n%254))}
}

func (b *Balancer) relay(c net.Conn) {
	defer c.Close()
	first := int(b.next.Add(1) % uint64(len(b.backends)))
	for k := range b.backends {
		i := (first + k) % len(b.backends)
		d := net.Dialer{LocalAddr: b.sourceAddr()}
		s, err := d.Dial("tcp", b.backends[i])
		if err != nil {
			continue // refused: the next one
		}
		b.active[i].Add(1)
		defer b.active[i].Add(-1)
		done := make(chan struct{})
		go func() {
			io.Copy(s, c)
			s.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		io.Copy(c, s)
		c.(*net.TCPConn).CloseWrite()
		s.Close()
		<-done
		return
	}
}
