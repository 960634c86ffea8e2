package ca

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// A burst of wrong answer sets on one reference: each attempt is paid
// before its answers are hashed, so the reference locks after
// protocol.MaxAttempts and the burst costs that many checks, not one per
// request; a locked reference costs no hashing at all.
func TestAnswerBurstPaysBeforeChecking(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref := mustEnroll(t, a)
	const n = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := a.Answer(context.Background(), ref, []string{"a", "b", "c"})
			// A checked set says how many attempts are left; a refused
			// one does not.
			outcome := "refused " + apiCode(err)
			if e := (*APIError)(nil); errors.As(err, &e) && e.AttemptsLeft != nil {
				outcome = "checked"
			}
			mu.Lock()
			codes[outcome]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if codes["checked"] != protocol.MaxAttempts || codes["refused "+protocol.CodeLocked] != n-protocol.MaxAttempts {
		t.Errorf("replies %v: want %d checked, the rest refused as locked", codes, protocol.MaxAttempts)
	}
	// Three answers per attempt.
	if got, limit := a.answerChecks.Load(), int64(3*protocol.MaxAttempts); got > limit {
		t.Errorf("the burst hashed %d answers, want at most %d", got, limit)
	}
	if q, _ := a.Questions(context.Background(), ref); q.State != protocol.StateLocked || q.AttemptsLeft != 0 {
		t.Fatalf("after the burst: %+v", q)
	}
	before := a.answerChecks.Load()
	if _, err := a.Answer(context.Background(), ref, []string{"bergamo", "fido", "manzoni"}); apiCode(err) != protocol.CodeLocked {
		t.Fatalf("answers on the locked reference: %v", err)
	}
	if got := a.answerChecks.Load(); got != before {
		t.Fatalf("a locked reference cost %d answer hashes", got-before)
	}
}

// holdSlots takes every hashing slot until the test releases them.
func holdSlots(t *testing.T, a *Authority) (release func()) {
	t.Helper()
	var held []func()
	for range a.answers.slots {
		r, err := a.answers.acquire(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	return func() {
		for _, r := range held {
			r()
		}
	}
}

// waitFailures polls the database until the reference counts n failures
// (attempts reserved included).
func waitFailures(t *testing.T, a *Authority, ref string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := loadRef(a.db, ref)
		if err != nil {
			t.Fatal(err)
		}
		if r.failures == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reference counts %d failures, want %d", r.failures, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A request that waits for a hashing slot stops waiting when its client
// goes away; the attempt it reserved is given back, nothing is hashed.
func TestAnswerWaitFollowsCancellation(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref := mustEnroll(t, a)
	release := holdSlots(t, a)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.Answer(ctx, ref, []string{"a", "b", "c"})
		done <- err
	}()
	waitFailures(t, a, ref, 1) // reserved, waiting
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait: %v", err)
	}
	waitFailures(t, a, ref, 0)
	if n := a.answerChecks.Load(); n != 0 {
		t.Fatalf("a cancelled request hashed %d answers", n)
	}
}

// A request that waited for a slot looks at the reference again before
// hashing: replaced or used meanwhile, it costs nothing.
func TestAnswerRechecksAfterWaiting(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref := mustEnroll(t, a)
	release := holdSlots(t, a)
	defer release()
	done := make(chan error, 1)
	go func() {
		_, err := a.Answer(context.Background(), ref, []string{"bergamo", "fido", "manzoni"})
		done <- err
	}()
	waitFailures(t, a, ref, 1)
	if _, err := a.Reissue(context.Background(), ref, true); err != nil {
		t.Fatal(err)
	}
	release()
	if err := <-done; apiCode(err) != protocol.CodeExpired {
		t.Fatalf("answers on a reference replaced while waiting: %v", err)
	}
	if n := a.answerChecks.Load(); n != 0 {
		t.Fatalf("the replaced reference cost %d answer hashes", n)
	}
}

// Right answers do not mint codes without limit: while one is live it is
// the one given again, and a reference is checked a bounded number of
// times per window, right answers included.
func TestAnswerOneLiveCode(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := context.Background()
	ref := mustEnroll(t, a)
	q, _ := a.Questions(ctx, ref)
	first, err := a.Answer(ctx, ref, rightAnswers(t, q))
	if err != nil {
		t.Fatal(err)
	}
	for range refChecksPerWindow - 1 {
		again, err := a.Answer(ctx, ref, rightAnswers(t, q))
		if err != nil {
			t.Fatal(err)
		}
		if again.Code != first.Code || !again.Expires.Equal(first.Expires) {
			t.Fatalf("a second authorization while the first is live: %+v, first %+v", again, first)
		}
	}
	before := a.answerChecks.Load()
	_, err = a.Answer(ctx, ref, rightAnswers(t, q))
	var e *APIError
	if !errors.As(err, &e) || e.Code != protocol.CodeRateLimited || e.Status != http.StatusTooManyRequests || e.RetryAfter <= 0 {
		t.Fatalf("answers beyond %d in a window: %v", refChecksPerWindow, err)
	}
	if a.answerChecks.Load() != before {
		t.Fatal("a refused check was hashed")
	}
	if q, _ := a.Questions(ctx, ref); q.AttemptsLeft != protocol.MaxAttempts {
		t.Fatalf("right answers cost attempts: %+v", q)
	}
	// Once the window and the code have passed, answers give a new code.
	if _, err := a.db.Exec(`UPDATE refs SET auth_expires = ?, window_start = ? WHERE code = ?`,
		time.Now().Add(-time.Second).Unix(), time.Now().Add(-refWindow).Unix(), ref); err != nil {
		t.Fatal(err)
	}
	next, err := a.Answer(ctx, ref, rightAnswers(t, q))
	if err != nil || next.Code == first.Code {
		t.Fatalf("after expiry: %+v %v", next, err)
	}
}

// Each client address gets a bounded number of answer requests; another
// address is served meanwhile.
func TestAnswersPerAddress(t *testing.T) {
	a := newCA(t, InitOptions{})
	ref := mustEnroll(t, a)
	addr, _ := serveCA(t, a)
	post := func(from string) *http.Response {
		t.Helper()
		hc := testClient(a)
		hc.Transport.(*http.Transport).DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext
		// One answer where three are asked: refused before any hashing.
		resp, err := hc.Post("https://"+addr+protocol.ActivationPrefix+ref+"/answers", "application/json", strings.NewReader(`{"answers":["x"]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	frozen := time.Now() // no token comes back during the test
	a.answerLimit.now = func() time.Time { return frozen }
	for i := range addressBurst {
		if resp := post("127.0.0.1"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("request %d: %s", i, resp.Status)
		}
	}
	resp := post("127.0.0.1")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("request %d from one address: %s, Retry-After %q", addressBurst+1, resp.Status, resp.Header.Get("Retry-After"))
	}
	if resp := post("127.0.0.2"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("another address: %s", resp.Status)
	}
}

// waitInLine polls until n requests wait for a hashing slot.
func waitInLine(t *testing.T, q *answerQueue, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, waiting, _ := q.stats(); waiting == n {
			return
		}
		if time.Now().After(deadline) {
			_, waiting, _ := q.stats()
			t.Fatalf("%d requests wait for a slot, want %d", waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Beyond Authority.AnswerQueue requests waiting for a hashing slot, an
// answer request is refused at once with 503, Retry-After and the code
// busy, before its attempt is counted; the ones in line are checked once
// the slots free up.
func TestAnswerQueueRefusesBeyondItsDepth(t *testing.T) {
	a := newCA(t, InitOptions{})
	a.AnswerQueue = 2
	addr, _ := serveCA(t, a)
	var refs []string
	for range a.AnswerQueue + 1 {
		refs = append(refs, mustEnroll(t, a))
	}
	hc := testClient(a)
	post := func(ref string) (*http.Response, string) {
		q, err := a.Questions(context.Background(), ref)
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		body := `{"answers":["` + strings.Join(rightAnswers(t, q), `","`) + `"]}`
		resp, err := hc.Post("https://"+addr+protocol.ActivationPrefix+ref+"/answers", "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return nil, ""
		}
		defer resp.Body.Close()
		var pe protocol.Error
		json.NewDecoder(resp.Body).Decode(&pe)
		return resp, pe.Code
	}
	release := holdSlots(t, a)
	defer release()
	statuses := make(chan int, a.AnswerQueue)
	for _, ref := range refs[:a.AnswerQueue] {
		go func() {
			resp, _ := post(ref)
			if resp == nil {
				statuses <- 0
				return
			}
			statuses <- resp.StatusCode
		}()
	}
	waitInLine(t, a.answers, a.AnswerQueue)
	resp, code := post(refs[a.AnswerQueue])
	if resp == nil {
		t.FailNow()
	}
	if resp.StatusCode != http.StatusServiceUnavailable || code != protocol.CodeBusy {
		t.Fatalf("an answer request beyond a full line: %s %q, want 503 %q", resp.Status, code, protocol.CodeBusy)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("Retry-After %q, want a number of seconds", resp.Header.Get("Retry-After"))
	}
	if r, _ := loadRef(a.db, refs[a.AnswerQueue]); r.failures != 0 || r.windowChecks != 0 {
		t.Fatalf("the refused request was counted: %d failures, %d checks", r.failures, r.windowChecks)
	}
	release()
	for range a.AnswerQueue {
		if s := <-statuses; s != http.StatusOK {
			t.Errorf("a request in line: status %d, want 200", s)
		}
	}
	if running, waiting, peak := a.answers.stats(); running != 0 || waiting != 0 || peak != a.AnswerQueue {
		t.Errorf("after the line cleared: %d slots taken, %d waiting, peak %d (want 0, 0, %d)", running, waiting, peak, a.AnswerQueue)
	}
}

// The line is first come, first served; a request that leaves the line
// (its client gone) gives up its place, and one given a slot as it left
// hands the slot on: no slot is lost.
func TestAnswerQueueOrder(t *testing.T) {
	q := newAnswerQueue(1)
	first, err := q.acquire(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.acquire(context.Background(), 0); apiCode(err) != protocol.CodeBusy {
		t.Fatalf("no slot and a line of 0: %v, want busy", err)
	}
	const n = 4
	got := make(chan int, n)
	ctxs := make([]context.CancelFunc, n)
	for i := range n {
		ctx, cancel := context.WithCancel(context.Background())
		ctxs[i] = cancel
		go func() {
			release, err := q.acquire(ctx, n)
			if err != nil {
				got <- -1
				return
			}
			got <- i
			release()
		}()
		waitInLine(t, q, i+1) // in this order
	}
	ctxs[1]() // the second leaves
	if i := <-got; i != -1 {
		t.Fatalf("request %d was served while the first slot was held", i)
	}
	first()
	for _, want := range []int{0, 2, 3} {
		if i := <-got; i != want {
			t.Fatalf("served %d, want %d", i, want)
		}
	}
	if running, waiting, peak := q.stats(); running != 0 || waiting != 0 || peak != n {
		t.Fatalf("%d slots taken, %d waiting, peak %d; want 0, 0, %d", running, waiting, peak, n)
	}
	for _, c := range ctxs {
		c()
	}
}

// A request turned away as busy does not count against its address: the
// clients of one office, coming back as the CA asked, are not refused as
// too many once it has room again.
func TestBusyRefusalsSpendNoAddressAllowance(t *testing.T) {
	a := newCA(t, InitOptions{})
	a.AnswerQueue = 1
	addr, _ := serveCA(t, a)
	refs := []string{mustEnroll(t, a), mustEnroll(t, a)}
	frozen := time.Now() // no token comes back during the test
	a.answerLimit.now = func() time.Time { return frozen }
	hc := testClient(a)
	post := func(ref string) *http.Response {
		q, err := a.Questions(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		body := `{"answers":["` + strings.Join(rightAnswers(t, q), `","`) + `"]}`
		resp, err := hc.Post("https://"+addr+protocol.ActivationPrefix+ref+"/answers", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	release := holdSlots(t, a)
	defer release()
	waiting := make(chan int, 1)
	go func() { waiting <- post(refs[0]).StatusCode }()
	waitInLine(t, a.answers, 1)
	for i := range 2 * addressBurst {
		if resp := post(refs[1]); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("request %d while the line is full: %s, want 503", i, resp.Status)
		}
	}
	release()
	if s := <-waiting; s != http.StatusOK {
		t.Fatalf("the request in line: %d", s)
	}
	if resp := post(refs[1]); resp.StatusCode != http.StatusOK {
		t.Fatalf("once the line cleared, after %d busy refusals from one address: %s", 2*addressBurst, resp.Status)
	}
}
