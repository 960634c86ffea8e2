package activation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

func TestMain(m *testing.M) { os.Exit(testenv.MainWithSecretService(m)) }

func client(t *testing.T, policyPath string) *Client {
	t.Helper()
	p, err := config.ReadPolicy(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(p, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestActivateIntoKeychain(t *testing.T) {
	testenv.NeedSecretService(t)
	srv := testenv.StartCA(t, ca.InitOptions{})
	ref := srv.Enroll(t)
	c := client(t, srv.Policy)
	ctx := context.Background()

	q, err := c.Questions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if q.State != protocol.StatePending || len(q.Questions) != 3 || q.AttemptsLeft != protocol.MaxAttempts {
		t.Fatalf("questions %+v", q)
	}
	auth, err := c.Answer(ctx, ref, testenv.Answers)
	if err != nil {
		t.Fatal(err)
	}
	if kt, err := c.KeyType(ctx); err != nil || kt != auth.KeyType {
		t.Fatalf("csrattrs key type %q %v, authorization says %q", kt, err, auth.KeyType)
	}
	store := pkcs.NewKeychainStore(t.TempDir(), 5)
	pin := []byte("Corr3ct-Horse")
	key, err := c.Activate(ctx, store, ref, auth, pin)
	if err != nil {
		t.Fatal(err)
	}
	if len(key.Chain) != 3 || !key.Chain[2].Equal(srv.Root) || !key.Chain[1].Equal(srv.Issuer) {
		t.Fatalf("chain of %d certificates, not leaf-issuing-root", len(key.Chain))
	}
	h := pkcs.HolderOf(key.Chain[0])
	if h.Name != "Marie Dupont" || h.Title != "Notaire" || h.MemberNumber != "75-1234" {
		t.Fatalf("holder %+v", h)
	}
	opened, err := store.Open(key.ID, pin)
	if err != nil || !opened.Chain[0].Equal(key.Chain[0]) {
		t.Fatalf("reopen: %v", err)
	}
}

func TestFailedEnrolmentLeavesNoKey(t *testing.T) {
	testenv.NeedSecretService(t)
	srv := testenv.StartCA(t, ca.InitOptions{})
	ref := srv.Enroll(t)
	c := client(t, srv.Policy)
	store := pkcs.NewKeychainStore(t.TempDir(), 5)
	bogus := &protocol.Authorization{Code: "NOT-THE-CODE", KeyType: protocol.KeyECDSAP256}
	_, err := c.Activate(context.Background(), store, ref, bogus, []byte("Corr3ct-Horse"))
	var se *ServerError
	if !errors.As(err, &se) || se.Code != protocol.CodeUnauthorized {
		t.Fatalf("got %v, want unauthorized", err)
	}
	if list, _ := store.List(); len(list) != 0 {
		t.Fatalf("failed activation left %d keys", len(list))
	}
}

// Fifty enrolments race on one reference: exactly one certificate.
func TestConcurrentEnrolmentsIssueOnce(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	ref := srv.Enroll(t)
	c := client(t, srv.Policy)
	ctx := context.Background()
	auth, err := c.Answer(ctx, ref, testenv.Answers)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	issued, used := 0, 0
	var other []error
	start := make(chan struct{})
	for range n {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := c.Enroll(ctx, ref, auth.Code, key)
			mu.Lock()
			defer mu.Unlock()
			var se *ServerError
			switch {
			case err == nil:
				issued++
			case errors.As(err, &se) && (se.Code == protocol.CodeUsed || se.Code == protocol.CodeUnauthorized):
				used++
			default:
				other = append(other, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if issued != 1 || used != n-1 || len(other) > 0 {
		t.Fatalf("issued %d, refused %d, other errors %v", issued, used, other)
	}
	hs, err := srv.List(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || len(hs[0].Certificates) != 1 {
		t.Fatalf("database holds %d certificates", len(hs[0].Certificates))
	}
}

func TestWrongAnchorNamesTheInterceptor(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	p, _ := config.ReadPolicy(srv.Policy)
	sum := sha256.Sum256([]byte("another root"))
	p.CA.Anchors = []string{hex.EncodeToString(sum[:])}
	c, err := New(p, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Discover(context.Background())
	var ae *netclient.AnchorError
	if !errors.As(err, &ae) || !strings.Contains(ae.Issuer, "Paraphe Demo CA Root") {
		t.Fatalf("got %v, want an AnchorError naming the chain's root", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	srv := testenv.StartCA(t, ca.InitOptions{})
	p, _ := config.ReadPolicy(srv.Policy)
	p.CA.URL = "https://" + addr
	c, _ := New(p, netclient.ClientOptions{})
	if _, err := c.Discover(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("got %v, want ErrUnreachable", err)
	}
}

// A server that answers, but not in the protocol (a captive portal, a
// proxy's error page, a truncated reply).
func TestMalformedReplies(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>Welcome to the hotel Wi-Fi</html>")
		}},
		{"proxy error", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>502</html>")
		}},
		{"truncated json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"version":1,"activation":"https://x/`)
		}},
		{"http urls", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"version":1,"activation":"http://x/a/","est":"http://x/e/"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewTLSServer(tt.handler)
			defer ts.Close()
			sum := sha256.Sum256(ts.Certificate().Raw)
			p := config.DefaultPolicy()
			p.CA = config.CA{URL: ts.URL, Anchors: []string{hex.EncodeToString(sum[:])}}
			c, err := New(&p, netclient.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Discover(context.Background()); !errors.Is(err, ErrMalformedReply) {
				t.Fatalf("got %v, want ErrMalformedReply", err)
			}
		})
	}
}

func TestBuildChainRejectsForeignLeaf(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	ref := srv.Enroll(t)
	c := client(t, srv.Policy)
	ctx := context.Background()
	auth, _ := c.Answer(ctx, ref, testenv.Answers)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	chain, err := c.Enroll(ctx, ref, auth.Code, key)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := c.buildChain(chain, []*x509.Certificate{srv.Root}, other.Public()); !errors.Is(err, ErrMalformedReply) {
		t.Fatalf("certificate for another key accepted: %v", err)
	}
}

func TestBuildChainNeedsAnchor(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	ref := srv.Enroll(t)
	c := client(t, srv.Policy)
	ctx := context.Background()
	auth, _ := c.Answer(ctx, ref, testenv.Answers)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	chain, err := c.Enroll(ctx, ref, auth.Code, key)
	if err != nil {
		t.Fatal(err)
	}
	// A root that is self-signed but not the policy's is no anchor.
	other := testenv.StartCA(t, ca.InitOptions{})
	if _, err := c.buildChain(chain[:2], []*x509.Certificate{other.Root}, key.Public()); !errors.Is(err, ErrWrongCA) {
		t.Fatalf("chain without the anchor accepted: %v", err)
	}
	// Asking again with the same key and authorization (a lost reply) gets
	// the same certificate; another key does not.
	again, err := c.Enroll(ctx, ref, auth.Code, key)
	if err != nil || !again[0].Equal(chain[0]) {
		t.Fatalf("retried enrolment: %v", err)
	}
	other2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var se *ServerError
	if _, err := c.Enroll(ctx, ref, auth.Code, other2); !errors.As(err, &se) || se.Code != protocol.CodeUsed {
		t.Fatalf("another key on a used code: %v", err)
	}
}

// busyCA is a CA served in this process behind a front that answers the
// first n answer requests as the CA's answer queue does when it is full
// (503, code busy, Retry-After: 1; the ca package's tests check the CA's
// own), then lets them through. It returns the policy and a reference.
func busyCA(t *testing.T, n int) (*config.Policy, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "ca")
	url := "https://" + l.Addr().String()
	if err := ca.Init(dir, ca.InitOptions{URL: url}); err != nil {
		t.Fatal(err)
	}
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h := a.Handler(slog.New(slog.DiscardHandler))
	var busy atomic.Int64
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/answers") && busy.Add(1) <= int64(n) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(protocol.Error{Code: protocol.CodeBusy, Message: "too many answers are waiting to be checked"})
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: front, TLSConfig: a.TLSConfig()}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
	data, err := config.PolicyFor(url, ca.Fingerprint(a.Root))
	if err != nil {
		t.Fatal(err)
	}
	var p config.Policy
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	ref, err := a.Enroll(context.Background(), testenv.Holder())
	if err != nil {
		t.Fatal(err)
	}
	return &p, ref
}

// A CA too busy to check answers says when to come back: the client
// tells Busy, waits that long and sends them again.
func TestAnswerWaitsForABusyCA(t *testing.T) {
	p, ref := busyCA(t, 1)
	c, err := New(p, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	c.Busy = func(d time.Duration) { waits = append(waits, d) }
	start := time.Now()
	auth, err := c.Answer(context.Background(), ref, testenv.Answers)
	if err != nil {
		t.Fatalf("answers after the CA was busy once: %v", err)
	}
	if auth.Code == "" || len(waits) != 1 || waits[0] < time.Second || waits[0] > 1250*time.Millisecond {
		t.Fatalf("authorization %q, waits told %v: want one wait of 1 to 1.25 s", auth.Code, waits)
	}
	if elapsed := time.Since(start); elapsed < waits[0] {
		t.Fatalf("sent again after %v, before the %v told", elapsed, waits[0])
	}
}

// A busy CA whose Retry-After lies beyond the caller's deadline: the
// client does not wait for nothing, it returns the CA's refusal at once.
func TestAnswerBusyBeyondTheDeadline(t *testing.T) {
	p, ref := busyCA(t, 1)
	c, err := New(p, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Busy = func(d time.Duration) { t.Errorf("told to wait %v with no time for it", d) }
	// Less than a second left once the CA answers: less than any wait.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.Answer(ctx, ref, testenv.Answers)
	var se *ServerError
	// Had it waited, the error would be the context's.
	if !errors.As(err, &se) || se.Code != protocol.CodeBusy || se.Status != http.StatusServiceUnavailable || se.RetryAfter != time.Second {
		t.Fatalf("got %v, want the CA's busy refusal with its Retry-After", err)
	}
}
