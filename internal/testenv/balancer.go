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
	backends atomic.Pointer[[]string]
	next     atomic.Uint64
	source   atomic.Uint32
	l        net.Listener
	wg       sync.WaitGroup
}

// StartBalancer balances connections between backends (host:port) until
// the test ends.
func StartBalancer(t testing.TB, backends ...string) *Balancer {
	t.Helper()
	b, err := NewBalancer(backends...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// NewBalancer balances connections between backends (host:port) until
// Close (for the benchmarks; tests use StartBalancer).
func NewBalancer(backends ...string) (*Balancer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{Addr: l.Addr().String(), l: l}
	b.SetBackends(backends...)
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

// SetBackends changes the backends the next connections go to.
func (b *Balancer) SetBackends(backends ...string) {
	b.backends.Store(&backends)
}

// Close stops taking connections (those open end with their backend).
func (b *Balancer) Close() {
	b.l.Close()
	b.wg.Wait()
}

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
	backends := *b.backends.Load()
	first := int(b.next.Add(1) % uint64(len(backends)))
	for k := range backends {
		i := (first + k) % len(backends)
		d := net.Dialer{LocalAddr: b.sourceAddr()}
		s, err := d.Dial("tcp", backends[i])
		if err != nil {
			continue // refused: the next one
		}
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
