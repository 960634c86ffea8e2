// Package netcheck is the connectivity doctor: it runs, concurrently and
// each within a timeout, every check between this computer and the CA, and
// reports findings a helpdesk can act on — what was observed, what was
// expected, and which fix applies. Findings carry codes; user interfaces
// say them in the user's language.
package netcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/netclient"
)

// Severity of a finding.
type Severity string

// Severities, from harmless to blocking.
const (
	OK      Severity = "ok"
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Finding is the result of one check.
type Finding struct {
	Check    Check             `json:"check"`
	Target   string            `json:"target"` // host:port, URL, or ""
	Severity Severity          `json:"severity"`
	Code     Code              `json:"code"` // what was observed
	Observed string            `json:"observed,omitempty"`
	Expected string            `json:"expected,omitempty"`
	Fix      Fix               `json:"fix,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
	Millis   int64             `json:"ms"`
}

// Report is what the doctor found.
type Report struct {
	Version  int       `json:"version"` // of this JSON schema
	Time     time.Time `json:"time"`
	Verdict  Verdict   `json:"verdict"`
	Cause    *Finding  `json:"cause,omitempty"` // the most likely cause when not working
	Findings []Finding `json:"findings"`
}

// Options say what to check.
type Options struct {
	Policy  *config.Policy
	Timeout time.Duration // per check; 0 means 5 s
	// Local checks the machine itself (key stores, certificates); the
	// caller provides it so that netcheck does not depend on the stores.
	Local func(ctx context.Context) []Finding
	// Now is the local clock (tests move it).
	Now func() time.Time
	// Resolver resolves names (default: the system's).
	Resolver *net.Resolver
	// Version is the suite's version, for the report.
	Version string
	// PolicyErr is why Policy is nil (missing, or invalid).
	PolicyErr error
	// Found, when set, is told of each finding as soon as it is made (from
	// the checks' goroutines, possibly at the same time), for a live view.
	Found func(Finding)
}

func (o *Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 5 * time.Second
	}
	return o.Timeout
}

// Run runs every check and returns the report. It never takes much longer
// than the timeout: checks run concurrently, each bounded by it.
func Run(ctx context.Context, o Options) *Report {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	rep := &Report{Version: 1, Time: now().UTC()}
	var mu sync.Mutex
	closed := false // set when Run stops waiting: late findings are dropped
	add := func(fs ...Finding) {
		mu.Lock()
		late := closed
		if !late {
			rep.Findings = append(rep.Findings, fs...)
		}
		mu.Unlock()
		if !late && o.Found != nil {
			for _, f := range fs {
				o.Found(f)
			}
		}
	}
	add(environment(o)...)

	var wg sync.WaitGroup
	pending := map[Check]int{} // runs not finished, under mu
	run := func(check Check, f func(ctx context.Context) []Finding) {
		wg.Add(1)
		mu.Lock()
		pending[check]++
		mu.Unlock()
		go func() {
			defer wg.Done()
			testHookStart()
			cctx, cancel := context.WithTimeout(ctx, o.timeout())
			defer cancel()
			fs := f(cctx)
			mu.Lock()
			pending[check]--
			mu.Unlock()
			add(fs...)
		}()
	}
	if o.Policy != nil {
		checkNetwork(ctx, o, now, add, run)
	}
	// This computer is checked even when the policy says nothing of the CA.
	if o.Local != nil {
		run(CheckKeystore, o.Local)
	}
	// Each check has the timeout; one that does not honour it (a hung
	// D-Bus call in the keychain, say) must not hold the whole report: a
	// second later it is reported as not answering and left behind.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(o.timeout() + time.Second)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		mu.Lock()
		for _, check := range slices.Sorted(maps.Keys(pending)) {
			if pending[check] > 0 {
				rep.Findings = append(rep.Findings, Finding{Check: check, Severity: Warning, Code: CodeCheckTimedOut, Fix: FixRetryLonger})
			}
		}
		closed = true
		mu.Unlock()
	}
	finish(rep)
	return rep
}

// checkNetwork starts the checks of the path to the CA the policy names.
func checkNetwork(ctx context.Context, o Options, now func() time.Time, add func(...Finding), run func(Check, func(context.Context) []Finding)) {
	u, err := url.Parse(o.Policy.CA.URL)
	if err != nil {
		add(Finding{Check: CheckPolicy, Severity: Error, Code: CodeBadURL, Fix: FixAskIT})
		return
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "443"
	}
	proxyURL, proxySource, perr := resolveProxy(ctx, o.Policy, u, o.timeout())
	if perr != nil {
		f := Finding{Check: CheckProxy, Severity: Error, Code: CodePACFailed, Observed: shortErr(perr), Fix: FixCheckNetwork,
			Details: map[string]string{"source": proxySource}}
		if pac, ok := strings.CutPrefix(o.Policy.Proxy, "pac+"); ok {
			f.Fix, f.Target = FixCheckPAC, redactURL(pac)
		}
		add(f)
		return
	}
	add(proxyFinding(proxyURL, proxySource))

	// The network path, step by step, so that the first broken step shows.
	if proxyURL == nil {
		run(CheckDNS, func(ctx context.Context) []Finding { return []Finding{checkDNS(ctx, o.Resolver, host)} })
		run(CheckTCP, func(ctx context.Context) []Finding { return []Finding{checkTCP(ctx, net.JoinHostPort(host, port))} })
	} else {
		run(CheckTCP, func(ctx context.Context) []Finding { return []Finding{checkTCP(ctx, proxyURL.Host)} })
		target := net.JoinHostPort(host, port)
		switch proxyURL.Scheme {
		case "http":
			run(CheckProxy, func(ctx context.Context) []Finding { return []Finding{checkConnect(ctx, proxyURL, target)} })
		case "socks5", "socks5h":
			run(CheckProxy, func(ctx context.Context) []Finding { return []Finding{checkSOCKS(ctx, proxyURL, target)} })
		}
	}
	run(CheckTLS, func(ctx context.Context) []Finding {
		return checkTLS(ctx, o.Policy, net.JoinHostPort(host, port), proxyURL)
	})
	run(CheckService, func(ctx context.Context) []Finding { return checkService(ctx, o.Policy, now) })
}

// testHookStart is called as each concurrent check starts (tests use it to
// prove the checks run side by side).
var testHookStart = func() {}

func finish(rep *Report) {
	// Checks lists an earlier step first: its failure explains later ones.
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		return slices.Index(Checks, rep.Findings[i].Check) < slices.Index(Checks, rep.Findings[j].Check)
	})
	rep.Verdict = Works
	for i, f := range rep.Findings {
		switch f.Severity {
		case Error:
			if rep.Verdict != Blocked {
				rep.Verdict = Blocked
				rep.Cause = &rep.Findings[i]
			}
		case Warning:
			if rep.Verdict == Works {
				rep.Verdict = WorksWarning
				rep.Cause = &rep.Findings[i]
			}
		}
	}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
}

func environment(o Options) []Finding {
	d := map[string]string{"os": runtime.GOOS, "arch": runtime.GOARCH, "policy": config.PolicyPath(),
		"version": o.Version, "install": installKind()}
	if runtime.GOOS != "windows" {
		d["admin"] = fmt.Sprint(os.Geteuid() == 0)
	}
	if o.Policy == nil {
		if errors.Is(o.PolicyErr, config.ErrUnconfigured) {
			return []Finding{{Check: CheckPolicy, Severity: Error, Code: CodePolicyUnconfigured, Observed: config.PolicyPath(), Fix: FixSetCA, Details: d}}
		}
		if o.PolicyErr != nil && !errors.Is(o.PolicyErr, config.ErrNoPolicy) {
			return []Finding{{Check: CheckPolicy, Severity: Error, Code: CodePolicyInvalid, Observed: shortErr(o.PolicyErr), Fix: FixAskIT, Details: d}}
		}
		if d["install"] != "machine" {
			// The onboarding guides' "suite not installed / no admin
			// rights": a copy run from the user's folder (or a build)
			// with no machine policy is not an installation; only an
			// administrator can make one.
			fix := FixInstallAdminPackage
			if d["admin"] == "false" {
				fix = FixAskITInstall
			}
			return []Finding{{Check: CheckPolicy, Severity: Error, Code: CodeNotInstalled, Observed: config.PolicyPath(), Fix: fix, Details: d}}
		}
		return []Finding{{Check: CheckPolicy, Severity: Error, Code: CodeNoPolicy, Observed: config.PolicyPath(), Fix: FixInstallPolicy, Details: d}}
	}
	return []Finding{{Check: CheckEnvironment, Severity: OK, Code: CodePolicyValid, Observed: o.Policy.Path, Details: d}}
}

func proxyFinding(pu *url.URL, source string) Finding {
	if pu == nil {
		return Finding{Check: CheckProxy, Severity: OK, Code: CodeDirect, Details: map[string]string{"source": source}}
	}
	return Finding{Check: CheckProxy, Severity: Info, Code: CodeViaProxy, Observed: netclient.ProxyDisplay(pu), Details: map[string]string{"source": source}}
}

func checkDNS(ctx context.Context, res *net.Resolver, host string) Finding {
	if res == nil {
		res = net.DefaultResolver
	}
	start := time.Now()
	f := Finding{Check: CheckDNS, Target: host}
	if net.ParseIP(host) != nil {
		f.Severity, f.Code = OK, CodeIPAddress
		return f
	}
	addrs, err := res.LookupHost(ctx, host)
	f.Millis = time.Since(start).Milliseconds()
	var de *net.DNSError
	switch {
	case err == nil:
		f.Severity, f.Code, f.Observed = OK, CodeResolved, strings.Join(addrs, " ")
	case errors.As(err, &de) && de.IsNotFound:
		f.Severity, f.Code, f.Fix = Error, CodeNotFound, FixCheckName
	case errors.As(err, &de) && de.IsTimeout, errors.Is(err, context.DeadlineExceeded):
		f.Severity, f.Code, f.Fix = Error, CodeDNSTimeout, FixCheckDNS
	default:
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeDNSFailed, FixCheckDNS, err.Error()
	}
	return f
}

func checkTCP(ctx context.Context, addr string) Finding {
	start := time.Now()
	f := Finding{Check: CheckTCP, Target: addr}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	f.Millis = time.Since(start).Milliseconds()
	if err == nil {
		conn.Close()
		f.Severity, f.Code = OK, CodeOpen
		return f
	}
	var oe *net.OpError
	switch {
	case isRefused(err):
		f.Severity, f.Code, f.Fix = Error, CodeRefused, FixServerDownOrPort
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &oe) && oe.Timeout()):
		f.Severity, f.Code, f.Fix = Error, CodeFiltered, FixOpenPort
	default:
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeUnreachable, FixOpenPort, err.Error()
	}
	return f
}

// checkTLS does the TLS handshake the way the suite does (through the
// proxy when there is one) and names an interceptor.
func checkTLS(ctx context.Context, p *config.Policy, addr string, proxy *url.URL) []Finding {
	start := time.Now()
	f := Finding{Check: CheckTLS, Target: addr}
	hc, err := netclient.NewHTTPClient(p, netclient.ClientOptions{Timeout: 0})
	if err != nil {
		f.Severity, f.Code, f.Fix = Error, CodeBadPolicy, FixAskIT
		return []Finding{f}
	}
	var state *tls.ConnectionState
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, "https://"+addr+"/", nil)
	resp, err := hc.Do(req)
	f.Millis = time.Since(start).Milliseconds()
	if err == nil {
		state = resp.TLS
		resp.Body.Close()
	}
	var ae *netclient.AnchorError
	var ce *netclient.CertificateError
	switch {
	case err == nil:
		f.Severity, f.Code = OK, CodeVerified
		if state != nil {
			f.Observed = tls.VersionName(state.Version) + " " + tls.CipherSuiteName(state.CipherSuite)
		}
	case errors.As(err, &ae):
		f.Severity, f.Code, f.Fix = Error, CodeIntercepted, FixBypassInspection
		f.Observed = ae.Issuer
	case errors.As(err, &ce) && ce.Reason == netclient.CertExpired:
		f.Severity, f.Code, f.Fix = Error, CodeExpiredOrClock, FixSyncClock
	case errors.As(err, &ce):
		f.Severity, f.Code, f.Fix = Error, CodeWrongName, FixAskIT
	default:
		// The network steps report the cause; here only the handshake.
		f.Severity, f.Code, f.Fix, f.Observed = Error, CodeHandshakeFailed, FixCheckNetwork, shortErr(err)
		if proxy != nil {
			f.Fix = FixConfigureProxy
		}
	}
	return []Finding{f}
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func isRefused(err error) bool {
	return strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "actively refused")
}

// errProxyTimeout: finding the proxy (a PAC file, the OS settings) took
// longer than the checks may.
var errProxyTimeout = errors.New("no answer within the time given to each check")

// resolveProxy finds the proxy for u within timeout: a PAC server that
// does not answer must not hold the report (the lookup goes on in the
// background, bounded by its own limits, and is cached for the next run).
func resolveProxy(ctx context.Context, p *config.Policy, u *url.URL, timeout time.Duration) (*url.URL, string, error) {
	type result struct {
		u      *url.URL
		source string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		pu, source, err := netclient.ResolveProxy(p, u)
		done <- result{pu, source, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.u, r.source, r.err
	case <-t.C:
	case <-ctx.Done():
	}
	source := netclient.SourceOS
	if strings.HasPrefix(p.Proxy, "pac+") {
		source = netclient.SourcePAC
	}
	return nil, source, errProxyTimeout
}

// installKind tells a per-machine installation (the program lives in a
// system folder) from a per-user one (under the user's home) or a build
// run from a work tree.
func installKind() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	home, _ := os.UserHomeDir()
	for _, sys := range []string{"/usr/bin", "/usr/local/bin", "/opt/", "/Applications/", `C:\Program Files`} {
		if strings.HasPrefix(exe, sys) {
			return "machine"
		}
	}
	if home != "" && strings.HasPrefix(exe, home) {
		return "user"
	}
	return "other"
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return ""
}
