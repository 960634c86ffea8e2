package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// lockoutServer is the exchange served on 127.0.0.1, and clients that
// connect from other loopback addresses (127.0.0.2, …: real source
// addresses, as from several machines).
type lockoutServer struct {
	f   *fixture
	url string
}

func serveForLockout(t *testing.T, f *fixture) *lockoutServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.x.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return &lockoutServer{f: f, url: "http://" + l.Addr().String()}
}

// signIn asks for an API token from the source address from, with an
// X-Forwarded-For header when xff is not empty; it returns the HTTP
// status and the error code.
func (s *lockoutServer) signIn(t *testing.T, from, xff, login, password string) (int, string) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}, Timeout: time.Minute}
	body, _ := json.Marshal(TokenRequest{Login: login, Password: password})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/v1/token", bytes.NewReader(body))
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("from %s: %v", from, err)
	}
	defer resp.Body.Close()
	var e APIError
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Code
}

// accounts makes n client accounts with testPassword.
func accounts(t *testing.T, f *fixture, n int) []*User {
	t.Helper()
	var us []*User
	for i := range n {
		us = append(us, f.user(t, NewUser{Kind: Client, Email: fmt.Sprintf("client%d@client.example", i), Name: fmt.Sprint("Client ", i)}, testPassword))
	}
	return us
}

// One address trying a few passwords on each of many accounts (and on
// accounts that do not exist), below every account's own limit, is
// locked out once it reaches the address limit: then even a right
// password from it is refused without being checked, while another
// address signs in. A forged X-Forwarded-For changes nothing when no
// proxy is trusted; attempts in parallel do not outrun the limit.
func TestAddressLockout(t *testing.T) {
	f := newFixture(t, InitOptions{})
	f.x.Config.AddressLockoutAttempts = 6
	us := accounts(t, f, 5)
	s := serveForLockout(t, f)

	for i := range 6 {
		login := us[i%len(us)].Email
		if i%3 == 2 {
			login = fmt.Sprintf("nobody%d@else.example", i)
		}
		if status, code := s.signIn(t, "127.0.0.2", "", login, "wrong"); code != "bad_login" {
			t.Fatalf("attempt %d: %d %s", i, status, code)
		}
	}
	before := f.x.passwordChecks.Load()
	if status, code := s.signIn(t, "127.0.0.2", "", us[0].Email, testPassword); code != "locked" || status != http.StatusTooManyRequests {
		t.Fatalf("the right password from the locked address: %d %s", status, code)
	}
	for _, xff := range []string{"198.51.100.7", "203.0.113.1, 198.51.100.9"} {
		if _, code := s.signIn(t, "127.0.0.2", xff, us[1].Email, testPassword); code != "locked" {
			t.Fatalf("X-Forwarded-For %s without a trusted proxy: %s", xff, code)
		}
	}
	if n := f.x.passwordChecks.Load() - before; n != 0 {
		t.Fatalf("%d passwords checked from a locked address", n)
	}
	if status, _ := s.signIn(t, "127.0.0.3", "", us[0].Email, testPassword); status != http.StatusOK {
		t.Fatalf("another address: %d", status)
	}

	// Twenty at once from one more address, each on an account of its
	// own: the passwords checked stay within the address's limit.
	before = f.x.passwordChecks.Load()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.signIn(t, "127.0.0.4", "", fmt.Sprintf("nobody%d@else.example", i), "wrong")
		}()
	}
	wg.Wait()
	if n := f.x.passwordChecks.Load() - before; n > int64(f.x.Config.AddressLockoutAttempts) {
		t.Fatalf("%d passwords checked in parallel from one address; the limit is %d", n, f.x.Config.AddressLockoutAttempts)
	}

	// The lock ends with its time.
	f.clock.Add(time.Duration(f.x.Config.LockoutMinutes)*time.Minute + time.Second)
	if status, _ := s.signIn(t, "127.0.0.2", "", us[0].Email, testPassword); status != http.StatusOK {
		t.Fatalf("after the lock: %d", status)
	}
}

// Behind a trusted reverse proxy the client is the last address of
// X-Forwarded-For that is not the proxy's: clients behind it are locked
// out one by one, and what a client writes in the header itself (before
// what the proxy appends) does not get it past its lock. A peer that is
// not a trusted proxy is judged by its own address, whatever it sends.
func TestAddressLockoutBehindAProxy(t *testing.T) {
	f := newFixture(t, InitOptions{TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8"}})
	f.x.Config.AddressLockoutAttempts = 3
	us := accounts(t, f, 3)
	s := serveForLockout(t, f)
	const proxy = "127.0.0.1"
	for i := range 3 {
		s.signIn(t, proxy, "198.51.100.7", us[i].Email, "wrong")
	}
	for _, xff := range []string{"198.51.100.7", "203.0.113.5, 198.51.100.7", "198.51.100.7, 10.1.2.3"} {
		if _, code := s.signIn(t, proxy, xff, us[0].Email, testPassword); code != "locked" {
			t.Fatalf("X-Forwarded-For %q from the locked client: %s", xff, code)
		}
	}
	if status, _ := s.signIn(t, proxy, "198.51.100.8", us[0].Email, testPassword); status != http.StatusOK {
		t.Fatalf("another client behind the proxy: %d", status)
	}
	// From a peer that is not a proxy, the header is not believed: its own
	// address is counted, and locked.
	for i := range 3 {
		s.signIn(t, "127.0.0.6", fmt.Sprintf("192.0.2.%d", i), us[i].Email, "wrong")
	}
	if _, code := s.signIn(t, "127.0.0.6", "192.0.2.99", us[1].Email, testPassword); code != "locked" {
		t.Fatalf("an untrusted peer changing X-Forwarded-For: %s", code)
	}
}
