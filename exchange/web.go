package exchange

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/internal/i18n"
)

//go:embed templates static
var files embed.FS

// web is the exchange's HTTP face.
type web struct {
	x       *Exchange
	pages   map[string]*template.Template
	csrfKey []byte
	secure  bool // the public URL is https: Secure cookies, HSTS
	static  http.Handler
	proxies []*net.IPNet // trusted reverse proxies
}

// Handler returns the exchange's web pages and its API; while the master
// key is on a token not handed over (UseToken), every request is answered
// 503, as nothing could be sealed or opened and no CSRF token made.
func (x *Exchange) Handler() http.Handler {
	if x.keys.locked() {
		return http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			http.Error(rw, ErrKeysLocked.Error(), http.StatusServiceUnavailable)
		})
	}
	u, _ := url.Parse(x.Config.URL)
	sub, _ := fs.Sub(files, "static")
	w := &web{x: x, pages: parsePages(), csrfKey: x.keys.derive("csrf"), secure: u.Scheme == "https",
		static: http.StripPrefix("/static/", http.FileServerFS(sub))}
	for _, p := range x.Config.TrustedProxies {
		if n, err := parseProxy(p); err == nil { // validated when opened
			w.proxies = append(w.proxies, n)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", w.static)
	mux.HandleFunc("GET /lang/{lang}", w.setLang)
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) { http.Redirect(rw, r, "/parcels", http.StatusSeeOther) })
	w.routes(mux)
	w.apiRoutes(mux)
	return w.headers(w.logRequests(mux))
}

// routes are the pages: who may see each (anyone, or a signed-in user),
// and what it does.
func (w *web) routes(mux *http.ServeMux) {
	for _, r := range []struct {
		pattern string
		signed  bool
		h       func(*request) error
	}{
		{"GET /login", false, w.loginPage},
		{"POST /login", false, w.login},
		{"GET /login/code", false, w.codePage},
		{"POST /login/code", false, w.code},
		{"POST /logout", true, w.logout},
		{"GET /invitation/{token}", false, w.invitationPage},
		{"POST /invitation/{token}", false, w.invitation},
		{"GET /parcels", true, w.parcelsPage},
		{"GET /parcels/{id}", true, w.parcelPage},
		{"GET /parcels/{id}/documents/{doc}", true, w.download},
		{"GET /parcels/{id}/documents/{doc}/view", true, w.viewDocument},
		{"POST /parcels/{id}/withdraw", true, w.withdraw},
		{"GET /slips", true, w.slipsPage},
		{"GET /slips/{id}", true, w.slipPage},
		{"GET /send", true, w.sendPage},
		{"POST /send", true, w.send},
		{"GET /profile", true, w.profilePage},
		{"POST /profile/password", true, w.changePassword},
		{"POST /profile/totp", true, w.totpStart},
		{"POST /profile/totp/confirm", true, w.totpConfirm},
		{"POST /profile/totp/off", true, w.totpOff},
		{"POST /profile/language", true, w.saveLanguage},
		{"POST /profile/certificate", true, w.uploadCertificate},
		{"POST /profile/certificate/remove", true, w.removeCertificate},
	} {
		mux.Handle(r.pattern, w.handle(r.signed, r.h))
	}
}

// request is one request to a page, with who asks and in which language.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	p       *i18n.Printer
	user    *User  // signed in; nil on the public pages
	session string // the session cookie's token
	bound   string // what the CSRF tokens are bound to
	remote  string
}

func (q *request) ctx() context.Context { return q.r.Context() }

// handle runs h for a request: the user of the session (signed pages send
// others to /login), the language, and the CSRF check of a form (a
// multipart form checks its token itself, as its first part).
func (w *web) handle(signed bool, h func(*request) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		q := &request{w: rw, r: r, remote: w.remoteOf(r)}
		if tok := w.cookie(r, cookieSession); tok != "" {
			if u, stage, err := w.x.session(r.Context(), tok, false); err == nil && stage == stageFull {
				q.user, q.session = u, tok
			}
		}
		q.p = i18n.New(w.lang(r, q.user))
		switch {
		case signed && q.user == nil:
			next := r.URL.Path
			if r.Method != http.MethodGet {
				next = ""
			}
			http.Redirect(rw, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		case q.user != nil:
			q.bound = q.session
		default:
			q.bound = w.visitor(rw, r)
		}
		if r.Method == http.MethodPost && !w.multipart(r) && !w.checkForm(q) {
			w.fail(q, errCSRF)
			return
		}
		if err := h(q); err != nil {
			w.fail(q, err)
		}
	})
}

func (w *web) multipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

var errCSRF = errors.New("exchange: the form's CSRF token is missing or wrong")

// checkForm checks a form's CSRF token, and that the browser did not send
// it from another site.
func (w *web) checkForm(q *request) bool {
	if site := q.r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, 64<<10)
	return w.csrfOK(q.bound, q.r.PostFormValue("csrf"))
}

// visitor returns the visitor's cookie (setting one on a first visit),
// which binds the CSRF tokens of the forms before sign-in.
func (w *web) visitor(rw http.ResponseWriter, r *http.Request) string {
	if v := w.cookie(r, cookiePre); len(v) >= 40 {
		return v
	}
	v, _ := token()
	w.setCookie(rw, cookiePre, v, 0)
	return v
}

// lang picks the pages' language: the switch's cookie, the user's
// setting, then the browser's Accept-Language.
func (w *web) lang(r *http.Request, u *User) string {
	if c, err := r.Cookie(cookieLang); err == nil && i18n.Normalize(c.Value) == c.Value {
		return c.Value
	}
	if u != nil {
		return u.Lang
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	for _, t := range tags {
		base, _ := t.Base()
		for _, l := range assets.Languages {
			if base.String() == l {
				return l
			}
		}
	}
	return assets.Languages[0]
}

// setLang is the language switch: a cookie, then back to the page.
func (w *web) setLang(rw http.ResponseWriter, r *http.Request) {
	l := r.PathValue("lang")
	if i18n.Normalize(l) == l {
		http.SetCookie(rw, &http.Cookie{Name: cookieLang, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(rw, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath is next when it is a path on this site, else "/".
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return path.Clean(u.Path)
}

// headers sets what every response carries: a content security policy
// that allows only this site's styles and scripts and no framing, no
// sniffing, no referrer (the invitation links hold a token), no caching
// of private pages, and HSTS over TLS.
func (w *web) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		if r.TLS != nil || w.secure {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(rw, r)
	})
}

// remoteOf is the client's address, for the audit and the lockout: the
// connection's peer, or, when the peer is a trusted reverse proxy, the
// last address of X-Forwarded-For that is not one (proxies append the
// address they received from, so what the client wrote in the header
// itself comes before, and is never taken).
func (w *web) remoteOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(w.proxies) == 0 || !w.trusted(host) {
		return host
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, a := range strings.Split(h, ",") {
			hops = append(hops, strings.TrimSpace(a))
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(hops[i])
		if ip == nil {
			return host // a header the proxy did not write whole: believe only the proxy
		}
		if !w.trusted(hops[i]) {
			return ip.String()
		}
	}
	return host
}

// trusted reports whether addr is one of the trusted proxies.
func (w *web) trusted(addr string) bool {
	ip := net.ParseIP(addr)
	for _, n := range w.proxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// parseProxy reads a trusted proxy: an address, or a CIDR range.
func parseProxy(s string) (*net.IPNet, error) {
	if ip := net.ParseIP(s); ip != nil {
		bits := 8 * len(ip.To4())
		if bits == 0 {
			bits = 128
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	_, n, err := net.ParseCIDR(s)
	return n, err
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }
func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// redact hides the tokens that paths carry (invitation links).
func redact(p string) string {
	if rest, ok := strings.CutPrefix(p, "/invitation/"); ok && rest != "" {
		return "/invitation/…"
	}
	return p
}

func (w *web) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: rw}
		h.ServeHTTP(sw, r)
		w.x.Log.Info("request", "method", r.Method, "path", redact(r.URL.Path), "status", sw.status,
			"bytes", sw.bytes, "ms", time.Since(start).Milliseconds(), "remote", w.remoteOf(r))
	})
}
