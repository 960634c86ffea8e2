// Package i18n says things in the user's language from the catalogue in
// package assets. Messages are Go templates over named arguments
// ("{{.Left}} tries left"), the syntax fyne's lang package reads too.
package i18n

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/paraphe/paraphe/assets"
)

// Printer renders messages in one language, falling back to English for a
// key the language lacks (a test keeps that from happening).
type Printer struct {
	Lang string
	// Variant, when set ("gui"), prefers "key.variant" to "key": the words
	// a message has in one interface (the desktop app names its buttons
	// where the command line names its flags).
	Variant  string
	msgs     map[string]string
	fallback map[string]string
}

var (
	loadOnce sync.Once
	catalog  map[string]map[string]string
	loadErr  error
)

// Catalog returns every language's messages.
func Catalog() (map[string]map[string]string, error) {
	loadOnce.Do(func() {
		catalog = map[string]map[string]string{}
		for _, l := range assets.Languages {
			data, err := assets.Translations.ReadFile("translations/" + l + ".json")
			if err != nil {
				loadErr = err
				return
			}
			m := map[string]string{}
			if err := json.Unmarshal(data, &m); err != nil {
				loadErr = fmt.Errorf("i18n: %s.json: %w", l, err)
				return
			}
			catalog[l] = m
		}
	})
	return catalog, loadErr
}

// NewVariant is New with the messages of one interface preferred (see
// Printer.Variant).
func NewVariant(lang, variant string) *Printer {
	p := New(lang)
	p.Variant = variant
	return p
}

// New returns a Printer for lang ("fr", "fr_FR.UTF-8", …); unknown
// languages get English.
func New(lang string) *Printer {
	cat, err := Catalog()
	if err != nil {
		panic(err) // the catalogue is embedded and tested
	}
	l := Normalize(lang)
	return &Printer{Lang: l, msgs: cat[l], fallback: cat[assets.Languages[0]]}
}

// Normalize maps a locale name to a catalogue language, or "en".
func Normalize(locale string) string {
	l := strings.ToLower(locale)
	if i := strings.IndexAny(l, "_.-@"); i >= 0 {
		l = l[:i]
	}
	for _, known := range assets.Languages {
		if l == known {
			return l
		}
	}
	return assets.Languages[0]
}

// Detect picks the language: PARAPHE_LANG, then the user's setting, then
// the POSIX locale variables.
func Detect(setting string) string {
	for _, v := range []string{os.Getenv("PARAPHE_LANG"), setting, os.Getenv("LC_ALL"), os.Getenv("LC_MESSAGES"), os.Getenv("LANG")} {
		if v != "" && v != "C" && v != "POSIX" && !strings.HasPrefix(v, "C.") {
			return Normalize(v)
		}
	}
	return assets.Languages[0]
}

// T renders message key with args given as name, value pairs:
// T("activate.tries_left", "Left", 3).
func (p *Printer) T(key string, args ...any) string {
	if p.Variant != "" {
		if _, ok := p.fallback[key+"."+p.Variant]; ok {
			key += "." + p.Variant
		}
	}
	msg, ok := p.msgs[key]
	if !ok {
		msg, ok = p.fallback[key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	data := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		data[fmt.Sprint(args[i])] = args[i+1]
	}
	t, err := template.New(key).Option("missingkey=zero").Parse(msg)
	if err != nil {
		return msg
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return msg
	}
	return b.String()
}

// Date writes a day the way the language does (the layout is the catalogue's
// "format.date", a Go time layout).
func (p *Printer) Date(t time.Time) string {
	return t.Format(p.T("format.date"))
}
