package exchange

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/internal/verdict"
)

// parsePages parses each page of templates/ with the layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"size":  byteSize,
		"short": func(s string) string { return s[:min(16, len(s))] },
		"severity": func(s verdict.Severity) string {
			return [...]string{"passed", "undecided", "failed"}[s]
		},
		"lines": func(s string) []string { return strings.Split(s, "\n") },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html"))
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(files, "templates/*.html")
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(files, n))
	}
	return pages
}

// byteSize writes a size for people: 1.2 MB (decimal, as file managers do).
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

// view is what a page's template sees: the request's words, user, CSRF
// token and the page's own data.
type view struct {
	q       *request
	Title   string
	User    *User
	CSRF    string
	Lang    string
	Langs   []string
	Path    string
	Notice  string // a message in words, said on top
	Error   string // a problem in words, said on top
	Data    any
	Firm    string
	Section string // the navigation's current entry
	Page    string // the template's name: main's id, for tests and styles
}

// T says a catalogue message in the page's language.
func (v *view) T(key string, args ...any) string { return v.q.p.T(key, args...) }

// Date and DateTime write times in the page's language.
func (v *view) Date(t time.Time) string { return v.q.p.Date(t.Local()) }

// DateTime writes a day and time.
func (v *view) DateTime(t time.Time) string { return t.Local().Format(v.q.p.T("format.datetime")) }

// Status says a parcel's status in words.
func (v *view) Status(s Status) string { return v.q.p.T("exchange.status." + s) }

// Verdicts are a document's verdicts in the page's language.
func (v *view) Verdicts(d Document) []Verdict { return d.Verdicts[v.Lang] }

func (w *web) view(q *request, title string, data any) *view {
	return &view{q: q, Title: q.p.T(title), User: q.user, CSRF: w.csrfToken(q.bound), Lang: q.p.Lang,
		Langs: assets.Languages, Path: q.r.URL.RequestURI(), Data: data, Firm: w.x.Config.Name}
}

// render writes page with v, or a 500 when the template fails (found by
// the tests: the pages are fixed).
func (w *web) render(q *request, status int, page string, v *view) error {
	t, ok := w.pages[page]
	if !ok {
		return fmt.Errorf("exchange: no page %s", page)
	}
	v.Page = page
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		return fmt.Errorf("exchange: page %s: %w", page, err)
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	_, err := q.w.Write(b.Bytes())
	return err
}

// fail answers a request that went wrong with a page in the user's words
// and the status that fits.
func (w *web) fail(q *request, err error) {
	status, key := http.StatusInternalServerError, "exchange.err.internal"
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, ErrNoParcel), errors.Is(err, ErrNoDocument):
		status, key = http.StatusNotFound, "exchange.err.not_found"
	case errors.Is(err, ErrGone):
		status, key = http.StatusGone, "exchange.err.gone"
	case errors.Is(err, errCSRF):
		status, key = http.StatusForbidden, "exchange.err.csrf"
	case errors.Is(err, ErrTooLarge), errors.As(err, &tooBig):
		status, key = http.StatusRequestEntityTooLarge, "exchange.err.too_large"
	case errors.Is(err, errNotFound):
		status, key = http.StatusNotFound, "exchange.err.not_found"
	default:
		w.x.Log.Error("request failed", "path", redact(q.r.URL.Path), "err", err.Error())
	}
	v := w.view(q, "exchange.error.title", nil)
	v.Error = q.p.T(key)
	if err := w.render(q, status, "error", v); err != nil {
		http.Error(q.w, q.p.T(key), status)
	}
}

var errNotFound = errors.New("exchange: no such page")
