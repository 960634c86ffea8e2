package netcheck

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/protocol"
)

// Clock skew thresholds against the CA's Date header.
const (
	skewWarn = time.Minute
	skewFail = 5 * time.Minute
)

// checkService asks the CA for its service document (and the date), its CA
// certificates (against the policy anchors), and probes the time-stamping
// authority and the CRL.
func checkService(ctx context.Context, p *config.Policy, now func() time.Time) []Finding {
	hc, err := netclient.NewHTTPClient(p, netclient.ClientOptions{})
	if err != nil {
		return []Finding{{Check: CheckService, Severity: Error, Code: CodeBadPolicy, Fix: FixAskIT}}
	}
	base := strings.TrimRight(p.CA.URL, "/")
	svc := Finding{Check: CheckService, Target: base + protocol.ServicePath}
	resp, body, err := fetch(ctx, hc, &svc, "", nil, 1<<20)
	if err != nil {
		svc.Severity, svc.Code = Error, CodeUnreachable
		svc.Observed = shortErr(err)
		return []Finding{svc} // the network findings say why
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		// The CA, or a balancer before it, says it cannot serve now:
		// not something else answering in its place.
		svc.Severity, svc.Code, svc.Fix = Error, CodeBusy, FixRetryLater
		svc.Observed = retryAfterSeconds(resp.Header.Get("Retry-After"), now())
		return []Finding{svc}
	}
	var doc protocol.ServiceDocument
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &doc) != nil || doc.EST == "" {
		svc.Severity, svc.Code, svc.Fix = Error, CodeNotParaphe, FixCheckURLOrProxy
		svc.Observed = fmt.Sprintf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		return []Finding{svc}
	}
	svc.Severity, svc.Code, svc.Observed = OK, CodeAnswered, doc.Name
	out := []Finding{svc, clockFinding(resp.Header.Get("Date"), now())}

	// The CA certificates must include a policy anchor.
	// The CA's other services, side by side, each within the same
	// deadline rather than one after another.
	var mu sync.Mutex
	var wg sync.WaitGroup
	side := func(f func() Finding) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f()
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	side(func() Finding {
		caf, caCerts := checkCACerts(ctx, hc, p, doc.EST+"cacerts")
		if doc.OCSP != "" && len(caCerts) >= 2 {
			side(func() Finding { return checkOCSP(ctx, hc, doc.OCSP, caCerts[0], caCerts[1]) })
		}
		return caf
	})
	if doc.TSA != "" {
		side(func() Finding { return checkTSA(ctx, hc, doc.TSA) })
	}
	if doc.CRL != "" {
		side(func() Finding { return checkCRL(ctx, hc, doc.CRL, now()) })
	}
	wg.Wait()
	return out
}

// retryAfterSeconds is a Retry-After header (seconds, or an HTTP date) in
// whole seconds from now, or "" when there is none.
func retryAfterSeconds(h string, now time.Time) string {
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return strconv.Itoa(s)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return strconv.Itoa(int(t.Sub(now).Round(time.Second).Seconds()))
	}
	return ""
}

func clockFinding(date string, now time.Time) Finding {
	f := Finding{Check: CheckClock}
	t, err := http.ParseTime(date)
	if err != nil {
		f.Severity, f.Code = Info, CodeNoDate
		return f
	}
	skew := now.Sub(t)
	if skew < 0 {
		skew = -skew
	}
	f.Observed = now.UTC().Format(time.RFC3339)
	f.Expected = t.UTC().Format(time.RFC3339)
	f.Details = map[string]string{"skew_seconds": fmt.Sprint(int(skew.Seconds()))}
	switch {
	case skew > skewFail:
		f.Severity, f.Code, f.Fix = Error, CodeSkew, FixSyncClock
	case skew > skewWarn:
		f.Severity, f.Code, f.Fix = Warning, CodeSkew, FixSyncClock
	default:
		f.Severity, f.Code = OK, CodeInSync
	}
	return f
}

func checkCACerts(ctx context.Context, hc *http.Client, p *config.Policy, u string) (Finding, []*x509.Certificate) {
	f := Finding{Check: CheckService, Target: u}
	_, body, err := fetch(ctx, hc, &f, "", nil, 1<<20)
	if err != nil {
		f.Severity, f.Code, f.Observed = Error, CodeUnreachable, shortErr(err)
		return f, nil
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
	var certs []*x509.Certificate
	if err == nil {
		certs, err = protocol.ParseCertsOnly(der)
	}
	if err != nil {
		f.Severity, f.Code, f.Fix = Error, CodeCACertsUnreadable, FixCheckURLOrProxy
		return f, nil
	}
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		for _, a := range p.CA.Anchors {
			if fp, _ := config.ParseFingerprint(a); bytes.Equal(fp, sum[:]) {
				f.Severity, f.Code, f.Observed = OK, CodeAnchorMatches, c.Subject.CommonName
				return f, certs
			}
		}
	}
	f.Severity, f.Code, f.Fix = Error, CodeAnchorMismatch, FixAskIT
	return f, nil
}

// checkOCSP asks the responder about the issuing CA: any well-formed answer
// shows it is reachable (validators ask it about holders' certificates).
func checkOCSP(ctx context.Context, hc *http.Client, u string, cert, issuer *x509.Certificate) Finding {
	f := Finding{Check: CheckOCSP, Target: u}
	q, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		f.Severity, f.Code = Info, CodeNotChecked
		return f
	}
	resp, body, err := fetch(ctx, hc, &f, "application/ocsp-request", q, 1<<20)
	if err != nil {
		f.Severity, f.Code, f.Fix, f.Observed = Warning, CodeUnreachable, FixOpenPort, shortErr(err)
		return f
	}
	r, err := ocsp.ParseResponse(body, nil)
	var re ocsp.ResponseError
	refusal := errors.As(err, &re)
	switch {
	case resp.StatusCode != http.StatusOK || (err != nil && !refusal):
		f.Severity, f.Code, f.Fix = Warning, CodeBadReply, FixCheckURLOrProxy
		f.Observed = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return f
	case refusal:
		f.Observed = re.Error() // a well-formed refusal still shows the responder answers
	default:
		f.Observed = "OCSP " + map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[r.Status]
	}
	f.Severity, f.Code = OK, CodeAnswered
	return f
}

func checkTSA(ctx context.Context, hc *http.Client, u string) Finding {
	f := Finding{Check: CheckTSA, Target: u}
	q, _ := timestamp.CreateRequest(strings.NewReader("paraphe doctor"), &timestamp.RequestOptions{Hash: crypto.SHA256})
	resp, body, err := fetch(ctx, hc, &f, "application/timestamp-query", q, 1<<20)
	if err != nil {
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeUnreachable, FixOpenPort, shortErr(err)
		return f
	}
	ts, err := timestamp.ParseResponse(body)
	if resp.StatusCode != http.StatusOK || err != nil {
		f.Severity, f.Code, f.Fix = Error, CodeBadReply, FixCheckURLOrProxy
		f.Observed = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return f
	}
	f.Severity, f.Code = OK, CodeAnswered
	f.Observed = ts.Time.UTC().Format("2006-01-02 15:04:05 UTC")
	return f
}

func checkCRL(ctx context.Context, hc *http.Client, u string, now time.Time) Finding {
	f := Finding{Check: CheckCRL, Target: u}
	resp, body, err := fetch(ctx, hc, &f, "", nil, 32<<20)
	if err != nil {
		f.Severity, f.Code, f.Fix, f.Observed = Warning, CodeUnreachable, FixOpenPort, shortErr(err)
		return f
	}
	crl, err := x509.ParseRevocationList(body)
	switch {
	case resp.StatusCode != http.StatusOK || err != nil:
		f.Severity, f.Code, f.Fix = Warning, CodeBadReply, FixCheckURLOrProxy
	case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
		f.Severity, f.Code, f.Fix = Warning, CodeStale, FixAskCA
	default:
		f.Severity, f.Code = OK, CodeCurrent
	}
	return f
}

// fetch asks f.Target (GET, or POST of query as ctype when query is not
// nil), reads at most limit bytes of the reply and times the exchange in
// f.Millis. A reply cut short is an error like a failed request.
func fetch(ctx context.Context, hc *http.Client, f *Finding, ctype string, query []byte, limit int64) (*http.Response, []byte, error) {
	start := time.Now()
	defer func() { f.Millis = time.Since(start).Milliseconds() }()
	method, body := http.MethodGet, io.Reader(nil)
	if query != nil {
		method, body = http.MethodPost, bytes.NewReader(query)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.Target, body)
	if err != nil {
		return nil, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp, b, err
}
