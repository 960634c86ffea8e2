package ca

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paraphe/paraphe/protocol"
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

// giveBack returns addr the token its last request took.
func (l *addressLimiter) giveBack(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.seen[addr]; b != nil {
		b.tokens = min(l.burst, b.tokens+1)
	}
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

// answerQueue bounds the answer checks (Argon2id, the costliest work the
// server does for a client) made at once, its slots, and the requests
// waiting in line for a slot. A request that finds the line full is
// refused at once (503 with Retry-After): beyond a line the slots clear
// in a second or two, waiting longer only makes every client late, and a
// client told when to come back does better than one left hanging. The
// line is first come, first served.
type answerQueue struct {
	slots int

	mu      sync.Mutex
	running int             // slots taken
	line    []chan struct{} // waiting, oldest first; closed when given a slot
	peak    int             // the longest the line has been
	check   time.Duration   // how long a slot is held, on average (EWMA)
}

func newAnswerQueue(slots int) *answerQueue { return &answerQueue{slots: max(1, slots)} }

// wouldRefuse returns the refusal a request arriving now would get with
// at most depth requests waiting, or nil: the server asks before doing
// any work for the request, so that an overloaded server refuses for
// nothing.
func (q *answerQueue) wouldRefuse(depth int) *APIError {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running < q.slots || len(q.line) < depth {
		return nil
	}
	return q.busy()
}

// busy is the refusal of a request that finds the line full; its
// Retry-After is the time the line takes to move by its length (the line
// and one more, over the slots, at the average check). Under the mutex.
func (q *answerQueue) busy() *APIError {
	check := q.check
	if check == 0 {
		check = 100 * time.Millisecond
	}
	e := apiErr(http.StatusServiceUnavailable, protocol.CodeBusy, "too many answers are waiting to be checked: try again in a few seconds")
	e.RetryAfter = time.Duration(len(q.line)+1) * check / time.Duration(q.slots)
	return e
}

// unboundedLine is the depth of acquire that never refuses.
const unboundedLine = -1

// acquire takes a slot, waiting in line for one behind at most depth
// others (any number: unboundedLine); it returns busy's refusal when the
// line is full, ctx's error when ctx ends first. release gives the slot
// back.
func (q *answerQueue) acquire(ctx context.Context, depth int) (release func(), err error) {
	q.mu.Lock()
	if q.running < q.slots && len(q.line) == 0 {
		q.running++
		q.mu.Unlock()
		return q.releaser(), nil
	}
	if depth != unboundedLine && len(q.line) >= depth {
		defer q.mu.Unlock()
		return nil, q.busy()
	}
	turn := make(chan struct{})
	q.line = append(q.line, turn)
	q.peak = max(q.peak, len(q.line))
	q.mu.Unlock()
	select {
	case <-turn:
		return q.releaser(), nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, c := range q.line {
		if c == turn {
			q.line = append(q.line[:i], q.line[i+1:]...)
			return nil, ctx.Err()
		}
	}
	// Given a slot as ctx ended: handed on.
	q.handOn()
	return nil, ctx.Err()
}

// releaser returns the function that gives back a slot taken now,
// noting how long it was held.
func (q *answerQueue) releaser() func() {
	start := time.Now()
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			held := time.Since(start)
			if q.check == 0 {
				q.check = held
			} else {
				q.check += (held - q.check) / 8
			}
			q.handOn()
		})
	}
}

// handOn gives the slot just given back to the first in line, or frees
// it. Under the mutex.
func (q *answerQueue) handOn() {
	if len(q.line) == 0 {
		q.running--
		return
	}
	close(q.line[0])
	q.line = q.line[1:]
}

// stats are the line's figures for the metrics: slots taken, requests
// waiting, the most that ever waited.
func (q *answerQueue) stats() (running, waiting, peak int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running, len(q.line), q.peak
}
