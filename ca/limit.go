package ca

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener serves at most cap(slots) connections at once. A
// connection beyond is closed as soon as it is accepted, rather than left
// waiting in the kernel's queue: a flood of idle connections then costs
// their senders a reset each, and the server stays able to answer the
// ones it holds.
type limitListener struct {
	net.Listener
	slots   chan struct{}
	log     *slog.Logger
	refused atomic.Int64
	mu      sync.Mutex
	logged  time.Time // when a refusal was last logged
}

func newLimitListener(l net.Listener, n int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), log: log}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			c.Close()
			l.noteRefusal()
		}
	}
}

// noteRefusal logs refused connections, at most once every 10 seconds
// whatever the flood.
func (l *limitListener) noteRefusal() {
	n := l.refused.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.logged) < 10*time.Second {
		return
	}
	l.logged = time.Now()
	l.log.Warn("connection limit reached: connections refused", "addr", l.Addr().String(), "limit", cap(l.slots), "refused_total", n)
}

// limitConn gives its slot back when it is closed, before the socket
// closes: a client that sees the connection end can count on the slot.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite lets the HTTP server half-close the connection after an
// error reply, as it does on a bare TCP connection, so that the client
// reads the reply before the connection is reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Answer requests each client address may send: a burst of addressBurst,
// then one per addressRefill. An office behind one NAT address activating
// together stays well within it; one address cannot keep the hashing
// slots busy.
const (
	addressBurst  = 20
	addressRefill = 3 * time.Second
)

// addressLimiter is a token bucket per client address. It lives in the
// process: a limit of load, not a rule of the protocol (the attempts a
// reference allows are counted in the database).
type addressLimiter struct {
	burst float64
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	seen  map[string]*bucket
	sweep int // sweep full buckets when seen grows past this
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newAddressLimiter(burst int, every time.Duration) *addressLimiter {
	return &addressLimiter{burst: float64(burst), every: every, now: time.Now, seen: map[string]*bucket{}, sweep: 1024}
}

// take spends a token of addr and returns zero, or returns how long until
// addr has one.
func (l *addressLimiter) take(addr string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.seen[addr]
	if b == nil {
		if len(l.seen) >= l.sweep {
			// Buckets full again are the same as none.
			for k, o := range l.seen {
				if l.fill(o, now) >= l.burst {
					delete(l.seen, k)
				}
			}
			l.sweep = max(1024, 2*len(l.seen))
		}
		b = &bucket{tokens: l.burst, at: now}
		l.seen[addr] = b
	}
	b.tokens, b.at = l.fill(b, now), now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	return 0
}

func (l *addressLimiter) fill(b *bucket, now time.Time) float64 {
	return min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
}

// clientKey is the address a limit applies to: the IP of an IPv4 client,
// the /64 of an IPv6 one (one subscriber's prefix).
func clientKey(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
