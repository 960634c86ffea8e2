package netclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// A proxy auto-configuration (PAC) file: JavaScript with FindProxyForURL,
// run in goja with the helper functions browsers provide. The policy names
// it as "pac+https://host/proxy.pac" (or pac+http://).

// pacScript is a loaded PAC file. goja runtimes are not safe for concurrent
// use: calls are serialised.
type pacScript struct {
	mu  sync.Mutex
	vm  *goja.Runtime
	fn  goja.Callable
	src string // where it came from
}

// loadPAC fetches a PAC file directly (a PAC file is how one finds the
// proxy, so it is never fetched through one).
func loadPAC(ctx context.Context, pacURL string) (*pacScript, error) {
	if path, ok := strings.CutPrefix(pacURL, "file://"); ok { // OS settings may name a local file
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("netclient: PAC file: %w", err)
		}
		return compilePAC(string(data), pacURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pacURL, nil)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("netclient: PAC file %s: %w", redactURL(pacURL), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("netclient: PAC file %s: %s", redactURL(pacURL), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return compilePAC(string(body), pacURL)
}

func compilePAC(script, src string) (*pacScript, error) {
	vm := goja.New()
	for name, fn := range pacHelpers() {
		if err := vm.Set(name, fn); err != nil {
			return nil, err
		}
	}
	if _, err := vm.RunString(script); err != nil {
		return nil, fmt.Errorf("netclient: PAC file %s: %w", src, err)
	}
	fn, ok := goja.AssertFunction(vm.Get("FindProxyForURL"))
	if !ok {
		return nil, fmt.Errorf("netclient: PAC file %s has no FindProxyForURL", src)
	}
	return &pacScript{vm: vm, fn: fn, src: src}, nil
}

// find returns the proxy for u: nil for DIRECT, the first usable entry
// otherwise ("PROXY h:p", "HTTPS h:p" is not supported, "SOCKS5 h:p").
func (p *pacScript) find(u *url.URL) (*url.URL, error) {
	p.mu.Lock()
	fired := make(chan struct{})
	timer := time.AfterFunc(5*time.Second, func() {
		p.vm.Interrupt("PAC script took too long")
		close(fired)
	})
	v, err := p.fn(goja.Undefined(), p.vm.ToValue(u.String()), p.vm.ToValue(u.Hostname()))
	if !timer.Stop() {
		// The interrupt is being (or has been) raised: let it land before
		// clearing it, or it would stop the next call instead.
		<-fired
	}
	p.vm.ClearInterrupt()
	p.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("netclient: PAC FindProxyForURL: %w", err)
	}
	return parsePACResult(v.String())
}

func parsePACResult(s string) (*url.URL, error) {
	for _, entry := range strings.Split(s, ";") {
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "DIRECT":
			return nil, nil
		case "PROXY", "HTTP":
			if len(fields) == 2 {
				return &url.URL{Scheme: "http", Host: fields[1]}, nil
			}
		case "SOCKS", "SOCKS5":
			if len(fields) == 2 {
				return &url.URL{Scheme: "socks5", Host: fields[1]}, nil
			}
		}
	}
	return nil, fmt.Errorf("netclient: PAC answer %q names no usable proxy", s)
}

// pacHelpers are the functions PAC files expect (Netscape's list).
func pacHelpers() map[string]any {
	resolve := func(host string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return ""
		}
		for _, a := range addrs {
			if v4 := a.IP.To4(); v4 != nil {
				return v4.String()
			}
		}
		if len(addrs) > 0 {
			return addrs[0].IP.String()
		}
		return ""
	}
	return map[string]any{
		"isPlainHostName": func(host string) bool { return !strings.Contains(host, ".") },
		"dnsDomainIs": func(host, domain string) bool {
			return strings.HasSuffix(strings.ToLower(host), strings.ToLower(domain))
		},
		"localHostOrDomainIs": func(host, hostdom string) bool {
			return host == hostdom || (!strings.Contains(host, ".") && strings.HasPrefix(hostdom, host+"."))
		},
		"isResolvable": func(host string) bool { return resolve(host) != "" },
		"dnsResolve": func(host string) any {
			if ip := resolve(host); ip != "" {
				return ip
			}
			return nil
		},
		"isInNet": func(host, pattern, mask string) bool {
			ip := net.ParseIP(host)
			if ip == nil {
				ip = net.ParseIP(resolve(host))
			}
			p, m := net.ParseIP(pattern).To4(), net.ParseIP(mask).To4()
			if ip == nil || p == nil || m == nil || ip.To4() == nil {
				return false
			}
			return ip.To4().Mask(net.IPMask(m)).Equal(p.Mask(net.IPMask(m)))
		},
		"myIpAddress": func() string {
			conn, err := net.Dial("udp", "192.0.2.1:9") // no packet is sent: this only picks the route
			if err != nil {
				return "127.0.0.1"
			}
			defer conn.Close()
			return conn.LocalAddr().(*net.UDPAddr).IP.String()
		},
		"dnsDomainLevels": func(host string) int { return strings.Count(host, ".") },
		"shExpMatch": func(s, pattern string) bool {
			re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
			ok, _ := regexp.MatchString(re, s)
			return ok
		},
		"weekdayRange": weekdayRange,
		"timeRange":    timeRange,
		"dateRange":    dateRange,
		"alert":        func(string) {},
	}
}

// pacCache keeps one loaded script per PAC URL for the process. A failed
// load is remembered for pacRetryAfter, so that a PAC server that does not
// answer costs one fetch timeout, not one per request. The lock is held
// during a fetch on purpose: concurrent requests wait for that one fetch
// instead of each starting their own.
var pacCache struct {
	sync.Mutex
	entries map[string]pacEntry
}

type pacEntry struct {
	script   *pacScript
	err      error
	failedAt time.Time
}

const pacRetryAfter = 30 * time.Second

func pacFor(pacURL string) (*pacScript, error) {
	pacCache.Lock()
	defer pacCache.Unlock()
	if e, ok := pacCache.entries[pacURL]; ok && (e.err == nil || time.Since(e.failedAt) < pacRetryAfter) {
		return e.script, e.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := loadPAC(ctx, pacURL)
	if pacCache.entries == nil {
		pacCache.entries = map[string]pacEntry{}
	}
	if err != nil {
		pacCache.entries[pacURL] = pacEntry{err: err, failedAt: time.Now()}
		return nil, err
	}
	pacCache.entries[pacURL] = pacEntry{script: s}
	return s, nil
}

var weekdays = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

func pacNow(args []string) (time.Time, []string) {
	now := time.Now()
	if n := len(args); n > 0 && strings.EqualFold(args[n-1], "GMT") {
		return now.UTC(), args[:n-1]
	}
	return now, args
}

// weekdayRange(wd1 [, wd2] [, "GMT"]).
func weekdayRange(args ...string) bool {
	now, args := pacNow(args)
	if len(args) == 0 {
		return false
	}
	from, ok1 := weekdays[strings.ToUpper(args[0])]
	to, ok2 := from, true
	if len(args) > 1 {
		to, ok2 = weekdays[strings.ToUpper(args[1])]
	}
	if !ok1 || !ok2 {
		return false
	}
	d := int(now.Weekday())
	if from <= to {
		return d >= from && d <= to
	}
	return d >= from || d <= to
}

// timeRange(h1 [, h2] [, "GMT"]), whole hours.
func timeRange(args ...any) bool {
	var strs []string
	for _, a := range args {
		strs = append(strs, fmt.Sprint(a))
	}
	now, strs := pacNow(strs)
	var hours []int
	for _, s := range strs {
		var h int
		if _, err := fmt.Sscan(s, &h); err != nil {
			return false
		}
		hours = append(hours, h)
	}
	h := now.Hour()
	switch len(hours) {
	case 1:
		return h == hours[0]
	case 2:
		if hours[0] <= hours[1] {
			return h >= hours[0] && h < hours[1]
		}
		return h >= hours[0] || h < hours[1]
	}
	return false
}

var months = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
	"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}

// dateRange(day | month | year, … [, "GMT"]) in all the forms of the PAC
// specification: one value, or two ends of the same shape (day, month,
// year, day+month, month+year, day+month+year). Ranges include both ends
// and may wrap (dateRange("DEC", "JAN")).
func dateRange(args ...any) bool {
	var strs []string
	for _, a := range args {
		strs = append(strs, fmt.Sprint(a))
	}
	now, strs := pacNow(strs)
	return dateRangeAt(now, strs)
}

func dateRangeAt(now time.Time, args []string) bool {
	// Each argument is a day (1–31), a month name or a year (> 31).
	const day, month, year = 1, 2, 4
	type part struct{ kind, value int }
	var parts []part
	for _, a := range args {
		if m, ok := months[strings.ToUpper(a)]; ok {
			parts = append(parts, part{month, m})
			continue
		}
		var n int
		if _, err := fmt.Sscan(a, &n); err != nil || n < 1 {
			return false
		}
		if n <= 31 {
			parts = append(parts, part{day, n})
		} else {
			parts = append(parts, part{year, n})
		}
	}
	// key orders a date by the kinds present: year, then month, then day.
	key := func(ps []part) (kinds, k int) {
		var y, m, d int
		for _, p := range ps {
			if kinds&p.kind != 0 {
				return -1, 0 // the same kind twice
			}
			kinds |= p.kind
			switch p.kind {
			case year:
				y = p.value
			case month:
				m = p.value
			case day:
				d = p.value
			}
		}
		return kinds, y*10000 + m*100 + d
	}
	nowKey := func(kinds int) int {
		k := 0
		if kinds&year != 0 {
			k += now.Year() * 10000
		}
		if kinds&month != 0 {
			k += int(now.Month()) * 100
		}
		if kinds&day != 0 {
			k += now.Day()
		}
		return k
	}
	switch n := len(parts); {
	case n == 1:
		kinds, k := key(parts)
		return nowKey(kinds) == k
	case n == 2 || n == 4 || n == 6:
		k1, from := key(parts[:n/2])
		k2, to := key(parts[n/2:])
		if k1 < 0 || k1 != k2 || (n == 4 && k1 == day|year) {
			return false
		}
		cur := nowKey(k1)
		if from <= to {
			return from <= cur && cur <= to
		}
		if k1&year != 0 {
			return false // years do not wrap
		}
		return cur >= from || cur <= to
	}
	return false
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(PAC file)"
}
