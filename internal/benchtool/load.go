//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// load is a closed loop of HTTP/1.1 POST requests: conns connections at
// once, each sending its next request as soon as the last reply has
// come, for duration. The client is written for the measure, the same
// for every server: requests made once, replies read without building
// headers nor bodies, so that the two cores this runs on go to the
// servers (net/http's client costs as much as the server it measures).
type load struct {
	addrs     []string    // the connections go to these in turn
	tls       *tls.Config // nil: plain HTTP
	path      string
	ctype     string
	bodies    [][]byte // the requests' bodies, in turn
	keepAlive bool     // false: a new connection for each request
	conns     int
	duration  time.Duration
	minBody   int // a reply shorter than this is a failure
}

// loadResult is what a load saw.
type loadResult struct {
	requests   int64 // answered 200 with a body of minBody or more
	failed     int64 // any other reply, or none
	reconnects int64 // keep-alive connections the server closed
	elapsed    time.Duration
	firstError string
}

func (r loadResult) perSecond() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// run runs the load and returns what it saw.
func (l *load) run() loadResult {
	reqs := make([][]byte, len(l.bodies))
	for i, b := range l.bodies {
		h := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", l.path, l.addrs[0], l.ctype, len(b))
		// Said, though HTTP/1.1's default, for servers that keep a
		// connection only when asked (openssl ocsp closes it anyway).
		h += "Connection: keep-alive\r\n"
		if !l.keepAlive {
			h = strings.Replace(h, "keep-alive", "close", 1)
		}
		reqs[i] = append([]byte(h+"\r\n"), b...)
	}
	var (
		wg                  sync.WaitGroup
		ok, failed, redials atomic.Int64
		mu                  sync.Mutex
		first               string
	)
	start := time.Now()
	deadline := start.Add(l.duration)
	for i := range l.conns {
		wg.Go(func() {
			// Past the end, a reply that has not come is a failure.
			w := worker{load: l, addr: l.addrs[i%len(l.addrs)], next: i, until: deadline.Add(5 * time.Second)}
			for time.Now().Before(deadline) {
				err := w.one(reqs)
				if err == nil {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				if first == "" {
					first = err.Error()
				}
				mu.Unlock()
			}
			w.close()
			redials.Add(w.reconnects)
		})
	}
	wg.Wait()
	return loadResult{requests: ok.Load(), failed: failed.Load(), reconnects: redials.Load(), elapsed: time.Since(start), firstError: first}
}

// worker is one connection of a load (one at a time, without
// keep-alive).
type worker struct {
	*load
	addr       string
	until      time.Time // no connection waits beyond
	next       int
	c          net.Conn
	br         *bufio.Reader
	body       []byte
	reconnects int64
}

// one sends the next request and reads its reply.
func (w *worker) one(reqs [][]byte) error {
	if w.c == nil {
		if err := w.dial(); err != nil {
			return err
		}
	}
	req := reqs[w.next%len(reqs)]
	w.next++
	if _, err := w.c.Write(req); err != nil {
		w.close()
		return err
	}
	status, n, keep, err := w.reply()
	if err != nil || !w.keepAlive || !keep {
		if err == nil && w.keepAlive {
			w.reconnects++
		}
		w.close()
	}
	switch {
	case err != nil:
		return err
	case status != 200:
		return fmt.Errorf("HTTP %d", status)
	case n < w.minBody:
		return fmt.Errorf("a reply of %d bytes", n)
	}
	return nil
}

func (w *worker) dial() error {
	var err error
	d := &net.Dialer{Deadline: w.until}
	if w.tls != nil {
		w.c, err = tls.DialWithDialer(d, "tcp", w.addr, w.tls)
	} else {
		w.c, err = d.Dial("tcp", w.addr)
	}
	if err != nil {
		return err
	}
	w.c.SetDeadline(w.until)
	if w.br == nil {
		w.br = bufio.NewReaderSize(w.c, 8192)
	} else {
		w.br.Reset(w.c)
	}
	return nil
}

func (w *worker) close() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
}

var errBadReply = errors.New("not an HTTP/1.x reply")

// reply reads a reply: its status, the length of its body, and whether
// the connection stays open.
func (w *worker) reply() (status, n int, keep bool, err error) {
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, errBadReply
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, errBadReply
	}
	keep = line[7] == '1' // HTTP/1.1 keeps it unless told
	length, chunked := -1, false
	for {
		h, err := w.br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := strings.Cut(string(h), ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			length, _ = strconv.Atoi(value)
		case "transfer-encoding":
			chunked = strings.EqualFold(value, "chunked")
		case "connection":
			keep = !strings.EqualFold(value, "close")
		}
	}
	switch {
	case chunked:
		n, err = w.chunks()
	case length >= 0:
		n, err = w.read(length)
	default: // to the end of the connection
		var m int64
		m, err = io.Copy(io.Discard, w.br)
		n, keep = int(m), false
	}
	return status, n, keep, err
}

// read reads n bytes of body.
func (w *worker) read(n int) (int, error) {
	if cap(w.body) < n {
		w.body = make([]byte, n)
	}
	_, err := io.ReadFull(w.br, w.body[:n])
	return n, err
}

// chunks reads a chunked body and returns its length.
func (w *worker) chunks() (int, error) {
	total := 0
	for {
		line, err := w.br.ReadSlice('\n')
		if err != nil {
			return total, err
		}
		size, _, _ := strings.Cut(strings.TrimSpace(string(line)), ";")
		n, err := strconv.ParseInt(size, 16, 32)
		if err != nil {
			return total, errBadReply
		}
		if n == 0 {
			_, err := w.br.ReadSlice('\n') // no trailers
			return total, err
		}
		if _, err := w.read(int(n) + 2); err != nil {
			return total, err
		}
		total += int(n)
	}
}
