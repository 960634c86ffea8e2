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
