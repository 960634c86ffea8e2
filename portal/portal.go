// Package portal is paraphe-portal, a reference relying party: a
// supplier portal that registers its users' certificates and signs them in
// with them, through the signing bridge of Paraphe on their computers.
// It shows portal developers what to check in what the bridge returns.
//
// Suppliers are created by the portal's operator, each with a master code.
// A supplier's user, identified by their national ID card number, registers
// a certificate (master code, the form, the certificate chosen and the PIN
// typed in Paraphe); the first user who asks to be the supplier's
// administrator is, and sees and revokes the supplier's certificates. An
// additional certificate is registered under an existing user's ID
// (delegation). Any registered certificate signs in. A signed-in user
// signs the supplier's declaration of honour: a PDF the portal writes,
// signed in Paraphe (CAdES, detached) and verified before it is kept
// (sign.go).
//
// Every certificate comes in a Web eID authentication token (web-eid:1.0)
// over the portal's origin and a challenge the portal issued to that
// browser session: the challenge is used once, within ChallengeTTL; the
// signature must hold over the portal's own origin; the certificate must
// chain to the CAs the portal trusts and be good by OCSP (token.go).
//
// Pages are net/http and html/template, in English, French and Italian
// from the suite's catalogue; the database is SQLite, or PostgreSQL
// shared by replicas (database.go). The package imports nothing of the
// client side: no key store, no policy, no desktop.
package portal

import (
	"context"
	"crypto/x509"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
)

//go:embed pages/*.html static/*
var files embed.FS

// Portal is the web application.
type Portal struct {
	Store *Store
	// Origin is the portal's origin as browsers send it
	// ("https://portal.example"): the origin tokens must be signed over.
	Origin string
	// BridgeURL is where pages find the holder's bridge
	// (http://127.0.0.1:27461 by default).
	BridgeURL string
	// Trust says which certification authorities the portal trusts
	// (Trust anchors, read with trust.LoadFiles) and how it checks
	// revocation (Online, HTTP); Intermediates are CA certificates that
	// may complete a chain.
	Trust         pdf.VerifyOptions
	Intermediates []*x509.Certificate
	// ChallengeTTL is how long a challenge may be answered (5 minutes
	// when zero).
	ChallengeTTL time.Duration
	Now          func() time.Time
	Log          *slog.Logger

	pages map[string]*template.Template
}

// DefaultBridgeURL is the bridge's address when the machine policy keeps
// the default port.
const DefaultBridgeURL = "http://127.0.0.1:27461"

func (p *Portal) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Portal) ttl() time.Duration {
	if p.ChallengeTTL > 0 {
		return p.ChallengeTTL
	}
	return 5 * time.Minute
}

func (p *Portal) log(msg string, args ...any) {
	if p.Log != nil {
		p.Log.Info(msg, args...)
	}
}

// pageNames are the templates in pages/, each with layout.html.
var pageNames = []string{"home", "supplier", "register", "add", "certificate", "done", "account", "declaration", "document"}

func (p *Portal) parse() error {
	p.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.ParseFS(files, "pages/layout.html", "pages/"+name+".html")
		if err != nil {
			return err
		}
		p.pages[name] = t
	}
	return nil
}

// Handler is the portal's HTTP handler.
func (p *Portal) Handler() (http.Handler, error) {
	if err := p.parse(); err != nil {
		return nil, err
	}
	if p.BridgeURL == "" {
		p.BridgeURL = DefaultBridgeURL
	}
	static, _ := fs.Sub(files, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /lang", p.setLang)
	mux.HandleFunc("GET /{$}", p.withSession(p.home))
	mux.HandleFunc("POST /code", p.withSession(p.code))
	mux.HandleFunc("GET /supplier", p.withSession(p.supplierPage))
	mux.HandleFunc("GET /register", p.withSession(p.registerForm))
	mux.HandleFunc("POST /register", p.withSession(p.register))
	mux.HandleFunc("GET /add", p.withSession(p.addForm))
	mux.HandleFunc("POST /add", p.withSession(p.add))
	mux.HandleFunc("GET /certificate/{mode}", p.withSession(p.certificatePage))
	mux.HandleFunc("GET /signin", p.withSession(func(w http.ResponseWriter, r *http.Request, se *session) {
		p.certificateFor(w, r, se, purposeSignIn)
	}))
	mux.HandleFunc("POST /api/challenge", p.withSession(p.challenge))
	mux.HandleFunc("POST /api/token", p.withSession(p.token))
	mux.HandleFunc("GET /done", p.withSession(p.done))
	mux.HandleFunc("GET /account", p.withSession(p.account))
	mux.HandleFunc("POST /account/revoke", p.withSession(p.revoke))
	mux.HandleFunc("POST /signout", p.withSession(p.signOut))
	mux.HandleFunc("GET /declaration", p.withSession(p.declarationPage))
	mux.HandleFunc("POST /api/document", p.withSession(p.newDeclaration))
	mux.HandleFunc("POST /api/document/{id}/signature", p.withSession(p.documentSignature))
	mux.HandleFunc("GET /documents/{id}", p.withSession(p.documentPage))
	mux.HandleFunc("GET /documents/{id}/{file}", p.withSession(p.documentFile))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The bridge is the only other place scripts may talk to.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+p.BridgeURL+"; connect-src 'self' "+p.BridgeURL+"; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		mux.ServeHTTP(w, r)
	}), nil
}

const sessionCookie = "portal_session"

type sessionHandler func(http.ResponseWriter, *http.Request, *session)

// withSession finds the browser's session, or starts one; a POST must come
// from the portal's own pages (its Origin) and carry the session's CSRF
// token.
func (p *Portal) withSession(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var se *session
		if c, err := r.Cookie(sessionCookie); err == nil {
			se, _ = p.Store.session(ctx, c.Value, p.now())
		}
		if se == nil {
			cookie, s, err := p.Store.newSession(ctx, p.now())
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			se = s
			http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/", HttpOnly: true,
				Secure: strings.HasPrefix(p.Origin, "https://"), SameSite: http.SameSiteLaxMode})
		}
		if r.Method == http.MethodPost {
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				token = r.PostFormValue("csrf")
			}
			if r.Header.Get("Origin") != p.Origin || token != se.csrf {
				p.log("refused", "reason", "csrf", "origin", r.Header.Get("Origin"), "path", r.URL.Path)
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
		}
		h(w, r, se)
	}
}

// lang is the page's language: the lang cookie, else the browser's.
func lang(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil {
		return i18n.Normalize(c.Value)
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if l := i18n.Normalize(tag); l != "en" || strings.HasPrefix(strings.ToLower(tag), "en") {
			return l
		}
	}
	return "en"
}

func (p *Portal) setLang(w http.ResponseWriter, r *http.Request) {
	l := i18n.Normalize(r.URL.Query().Get("l"))
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	next := r.URL.Query().Get("next")
	if u, err := url.Parse(next); err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// page is what a template is given.
type page struct {
	p          *i18n.Printer
	Lang       string
	Langs      []string
	Path       string
	CSRF       string
	Title      string // catalogue key
	Message    string // what went wrong, in words
	Info       string // what went right
	Supplier   *Supplier
	User       *User
	Form       Registration
	AdminTaken bool
	Mode       string
	BridgeURL  string
	Config     template.JS // the certificate page's script settings
	Certs      []RegisteredCert
	All        []RegisteredCert // the supplier's, for its administrator
	Done       *doneInfo
	Parts      []pdf.LetterPart // the declaration's words
	Doc        *Document        // a signed document
	DocRef     string
	DocHash    string
	Docs       []Document // the user's signed documents
}

type doneInfo struct {
	UserID, Holder, Supplier string
	Admin, Added             bool
}

// T says key in the page's language.
func (d *page) T(key string, args ...any) string { return d.p.T(key, args...) }

// Date says a day in the page's language.
func (d *page) Date(t time.Time) string { return d.p.Date(t) }

func (p *Portal) newPage(r *http.Request, se *session, title string) *page {
	l := lang(r)
	d := &page{p: i18n.New(l), Lang: l, Langs: assets.Languages, Path: r.URL.Path, CSRF: se.csrf, Title: title, BridgeURL: p.BridgeURL}
	ctx := r.Context()
	if se.supplierID != 0 {
		if sp, err := p.Store.supplier(ctx, se.supplierID); err == nil {
			d.Supplier = &sp
		}
	}
	if se.userID != "" {
		if u, err := p.Store.User(ctx, se.userID); err == nil {
			d.User = &u
		}
	}
	return d
}

func (p *Portal) render(w http.ResponseWriter, name string, d *page, status int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := p.pages[name].ExecuteTemplate(w, "layout", d); err != nil {
		p.log("template", "page", name, "error", err.Error())
	}
}

func (p *Portal) save(w http.ResponseWriter, r *http.Request, se *session) bool {
	if err := p.Store.save(r.Context(), se); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return false
	}
	return true
}

// writeJSON answers the certificate page's script.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// errCode is the catalogue's name for an error shown on a page
// (portal.err.CODE).
func errCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{ErrChallengeUsed, "challenge_used"}, {ErrChallengeExpired, "challenge_expired"}, {ErrNoChallenge, "no_challenge"},
		{ErrTokenFormat, "token_format"}, {ErrTokenSignature, "token_signature"}, {ErrCertUntrusted, "cert_untrusted"},
		{ErrCertUsage, "cert_usage"}, {ErrCertRevokedCA, "cert_revoked_ca"}, {ErrRevocation, "revocation"},
		{ErrCertRegistered, "cert_registered"}, {ErrCertUnknown, "cert_unknown"}, {ErrCertRevoked, "cert_revoked"},
		{ErrUserExists, "user_exists"}, {ErrUnknownUser, "unknown_user"}, {ErrUnknownCode, "unknown_code"},
		{ErrNotAdmin, "not_admin"}, {ErrSignatureFormat, "signature_format"}, {ErrSignatureDocument, "signature_document"},
		{ErrSignatureInvalid, "signature_invalid"}, {ErrCertNotYours, "cert_not_yours"}, {ErrDocumentSigned, "document_signed"},
		{ErrDocumentUnknown, "document_unknown"}, {context.Canceled, "other"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "other"
}

// ErrorCodes are every errCode, for the catalogue's test.
var ErrorCodes = []string{"challenge_used", "challenge_expired", "no_challenge", "token_format", "token_signature",
	"cert_untrusted", "cert_usage", "cert_revoked_ca", "revocation", "cert_registered", "cert_unknown", "cert_revoked",
	"user_exists", "unknown_user", "unknown_code", "not_admin", "signature_format", "signature_document", "signature_invalid",
	"cert_not_yours", "document_signed", "document_unknown", "other"}
