package ca

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/protocol"
)

// serveAdmin serves a with its admin listener until the test ends, and
// returns the HTTPS, plain-HTTP and admin base URLs.
func serveAdmin(t *testing.T, a *Authority) (string, string, string) {
	t.Helper()
	admin, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.Admin = admin
	addr, vaddr := serveCA(t, a)
	return "https://" + addr, "http://" + vaddr, "http://" + admin.Addr().String()
}

// scrape reads /metrics as Prometheus does, in its text format.
func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value is the value of the counter (or a histogram's count) name whose
// labels include labels ("k=v" each); 0 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var sum float64
metrics:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue metrics
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		}
	}
	return sum
}

// activateHTTP runs an activation over HTTPS, as a client does, and
// returns the certificate.
func activateHTTP(t *testing.T, a *Authority, base string) []byte {
	t.Helper()
	hc := testClient(a)
	ref := mustEnroll(t, a)
	resp, err := hc.Get(base + protocol.ActivationPrefix + ref + "/questions")
	if err != nil {
		t.Fatal(err)
	}
	var q protocol.Questions
	json.NewDecoder(resp.Body).Decode(&q)
	resp.Body.Close()
	body, _ := json.Marshal(protocol.Answers{Answers: rightAnswers(t, &q)})
	resp, err = hc.Post(base+protocol.ActivationPrefix+ref+"/answers", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var auth protocol.Authorization
	json.NewDecoder(resp.Body).Decode(&auth)
	resp.Body.Close()
	csr := csrFor(t, p256(t))
	req, _ := http.NewRequest(http.MethodPost, base+protocol.ESTPrefix+"simpleenroll", strings.NewReader(base64.StdEncoding.EncodeToString(csr.Raw)))
	req.SetBasicAuth(ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo))
	req.Header.Set("Content-Type", "application/pkcs10")
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("simpleenroll: %s %s", resp.Status, der)
	}
	return der
}

// An activation moves the counters: its requests by route, the answers
// checked, the certificate issued; a refusal counts by its code, an OCSP
// answer by status and source.
func TestMetricsMove(t *testing.T) {
	a := newCA(t, InitOptions{})
	base, vbase, admin := serveAdmin(t, a)
	before := scrape(t, admin)
	activateHTTP(t, a, base)
	resp, err := testClient(a).Get(base + protocol.ActivationPrefix + "AAAA-AAAA-AAAA-AAAA/questions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	leaf, _ := activate(t, a, mustEnroll(t, a), p256(t))
	req, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	if resp, err := http.Post(vbase+pathOCSP, "application/ocsp-request", bytes.NewReader(req)); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	after := scrape(t, admin)
	for _, m := range []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"paraphe_ca_http_requests_total", []string{"route=GET /activation/v1/{ref}/questions", "code=200"}, 1},
		{"paraphe_ca_http_requests_total", []string{"route=POST /activation/v1/{ref}/answers", "code=200"}, 1},
		{"paraphe_ca_http_requests_total", []string{"route=POST /.well-known/est/simpleenroll", "code=200"}, 1},
		{"paraphe_ca_http_request_duration_seconds", []string{"route=POST /.well-known/est/simpleenroll"}, 1},
		{"paraphe_ca_certificates_issued_total", []string{"kind=enrolment"}, 1},
		{"paraphe_ca_answer_checks_total", nil, 6}, // both activations, three answers each
		{"paraphe_ca_failures_total", []string{"code=" + protocol.CodeUnknownReference}, 1},
		{"paraphe_ca_ocsp_responses_total", []string{"status=good", "source=cache"}, 1},
	} {
		if got := value(after, m.name, m.labels...) - value(before, m.name, m.labels...); got != m.delta {
			t.Errorf("%s%v moved by %v, want %v", m.name, m.labels, got, m.delta)
		}
	}
	if value(after, "process_cpu_seconds_total") == 0 || value(after, "go_goroutines") == 0 {
		t.Error("no process or Go runtime metrics")
	}
}

// readyz answers 200 while the database and the keys answer, 503 once the
// database file is gone (SQLite made unreachable: the PostgreSQL store's
// own test stops its server); healthz still answers.
func TestReadyz(t *testing.T) {
	a := newCA(t, InitOptions{})
	if a.db.dialect != sqliteDB {
		t.Skip("SQLite's file: TestReadyzPostgresStopped stops a PostgreSQL server")
	}
	_, _, admin := serveAdmin(t, a)
	get := func(path string) (int, map[string]string) {
		resp, err := http.Get(admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, body := get("/readyz"); code != http.StatusOK || body["database"] != "ok" || body["keys"] != "ok" || body["serving"] != "ok" {
		t.Fatalf("readyz: %d %v", code, body)
	}
	for _, f := range []string{fileDB, fileDB + "-wal", fileDB + "-shm"} {
		if err := os.Remove(filepath.Join(a.Dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	code, body := get("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body["database"], fileDB) || body["keys"] != "ok" {
		t.Fatalf("readyz without the database: %d %v", code, body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
}

// closeNotifier tells when Serve closes its listener: shutdown has begun.
type closeNotifier struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *closeNotifier) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}

// A stop finishes the request under way: the listener closes (no new
// connection), /readyz says stopping, and the request whose handler had
// begun gets its whole answer before Serve returns, with no error. (A
// request whose headers arrive after the stop began is not read: its
// client may send it again elsewhere, nothing was done.)
func TestGracefulStop(t *testing.T) {
	a := newCA(t, InitOptions{})
	leaf, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &closeNotifier{Listener: inner, closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, l, nil, slog.New(slog.DiscardHandler)) }()

	// A request under way: the handler has begun reading its body (it
	// asks for it: 100 Continue) and waits for it.
	roots := testClient(a).Transport.(*http.Transport).TLSClientConfig
	conn, err := tls.Dial("tcp", inner.Addr().String(), roots)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body, _ := ocsp.CreateRequest(leaf, a.Issuer, nil)
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", pathOCSP, len(body))
	br := bufio.NewReader(conn)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("no 100 Continue: %v %v", resp, err)
	}

	cancel() // what SIGTERM does in paraphe-ca serve
	<-l.closed
	if c, err := net.Dial("tcp", inner.Addr().String()); err == nil {
		c.Close()
		t.Fatal("a new connection was taken while stopping")
	}
	if r := a.CheckReady(context.Background()); r.Serving == nil {
		t.Fatal("ready while stopping")
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a request under way: %v", err)
	default:
	}
	conn.Write(body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		rest, _ := io.ReadAll(br)
		t.Fatalf("%v %q", err, rest)
	}
	der, _ := io.ReadAll(resp.Body)
	if r, err := ocsp.ParseResponseForCert(der, leaf, a.Issuer); resp.StatusCode != http.StatusOK || err != nil || r.Status != ocsp.Good {
		t.Fatalf("the request under way: %s %v", resp.Status, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
