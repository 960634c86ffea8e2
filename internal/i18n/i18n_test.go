package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netcheck"
	"github.com/paraphe/paraphe/parcel"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/protocol"
)

var placeholderRE = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Every language has every key, with the same placeholders, and each
// message is a valid template.
func TestCatalogueComplete(t *testing.T) {
	cat, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	en := cat["en"]
	for _, lang := range assets.Languages {
		msgs := cat[lang]
		for k, v := range en {
			tr, ok := msgs[k]
			if !ok {
				t.Errorf("%s: missing key %q", lang, k)
				continue
			}
			if !slices.Equal(placeholders(v), placeholders(tr)) {
				t.Errorf("%s: %q has placeholders %v, English has %v", lang, k, placeholders(tr), placeholders(v))
			}
			if _, err := template.New(k).Parse(tr); err != nil {
				t.Errorf("%s: %q: %v", lang, k, err)
			}
		}
		for k := range msgs {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: key %q is not in English", lang, k)
			}
		}
	}
}

// Every message key the commands use exists: literal keys found in the
// source, and the families built from constants.
func TestKeysUsedExist(t *testing.T) {
	cat, _ := Catalog()
	en := cat["en"]
	keyRE := regexp.MustCompile(`\.T\("([a-z0-9_.]+)"`)
	root := filepath.Join("..", "..")
	var used []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		data, _ := os.ReadFile(path)
		for _, m := range keyRE.FindAllStringSubmatch(string(data), -1) {
			if !strings.HasSuffix(m[1], ".") {
				used = append(used, m[1])
			}
		}
		return nil
	})
	if len(used) < 50 {
		t.Fatalf("found only %d keys in the source: the scan is broken", len(used))
	}
	for _, s := range []string{protocol.StatePending, protocol.StateExpired, protocol.StateLocked, protocol.StateUsed} {
		used = append(used, "state."+s)
	}
	for _, r := range []string{config.RuleTooShort, config.RuleTooLong, config.RuleDigitsOnly, config.RuleUpper,
		config.RuleLower, config.RuleDigit, config.RuleSpecial, config.RuleRepeat} {
		used = append(used, "pin."+r)
	}
	for _, r := range []string{config.ReasonSyntax, config.ReasonUnknown, config.ReasonRequired, config.ReasonHTTPS,
		config.ReasonFingerprint, config.ReasonValue, config.ReasonRange} {
		used = append(used, "policy."+r)
	}
	for _, s := range config.Stores {
		for _, family := range []string{"store.", "app.act.store.", "activate.kept.", "pin.changed."} {
			used = append(used, family+string(s))
		}
	}
	for _, c := range pdf.Changes {
		used = append(used, "verify.change."+c)
	}
	for _, c := range netcheck.Checks {
		used = append(used, "doctor.check."+string(c))
	}
	for _, c := range netcheck.Codes {
		used = append(used, "doctor.code."+string(c))
	}
	for _, f := range netcheck.Fixes {
		used = append(used, "doctor.fix."+string(f))
	}
	for _, v := range netcheck.Verdicts {
		used = append(used, "doctor.verdict."+string(v))
	}
	for _, r := range pdf.TrustProblems {
		used = append(used, "verify.trust."+string(r))
	}
	for _, r := range pdf.AnchorSources {
		used = append(used, "verify.trusted."+string(r), "trust.source."+string(r))
	}
	for _, r := range pdf.Problems {
		used = append(used, "verify.problem."+string(r))
	}
	for _, a := range []bridge.Action{bridge.ActionCertificates, bridge.ActionRegister, bridge.ActionSignIn, bridge.ActionSign} {
		used = append(used, "bridge.ask."+string(a), "app.bridge.ask."+string(a), "app.bridge.allow."+string(a))
	}
	for _, r := range pdf.Revocations {
		used = append(used, "verify.revocation."+string(r))
	}
	for _, r := range local.RecipientCertReasons {
		used = append(used, "err.e2e_certificate."+r, "hint.e2e_certificate."+r)
	}
	for _, s := range parcel.Statuses {
		used = append(used, "receive.status."+s)
	}
	for _, k := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is used but not in the catalogue", k)
		}
	}
}

func TestPrinter(t *testing.T) {
	if got := New("fr_FR.UTF-8").Lang; got != "fr" {
		t.Errorf("fr_FR.UTF-8 → %s", got)
	}
	if got := New("de_DE").Lang; got != "en" {
		t.Errorf("de_DE → %s", got)
	}
	p := New("en")
	if got := p.T("err.wrong_pin", "Left", 2); !strings.Contains(got, "2 tries left") {
		t.Errorf("template: %q", got)
	}
	if got := p.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key: %q", got)
	}
}

func TestDetect(t *testing.T) {
	t.Setenv("PARAPHE_LANG", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "it_IT.UTF-8")
	if got := Detect(""); got != "it" {
		t.Errorf("LANG=it_IT: %s", got)
	}
	if got := Detect("fr"); got != "fr" {
		t.Errorf("setting fr: %s", got)
	}
	t.Setenv("PARAPHE_LANG", "en")
	if got := Detect("fr"); got != "en" {
		t.Errorf("PARAPHE_LANG wins: %s", got)
	}
	t.Setenv("PARAPHE_LANG", "")
	t.Setenv("LANG", "C.UTF-8")
	if got := Detect(""); got != "en" {
		t.Errorf("C locale: %s", got)
	}
}

func TestDate(t *testing.T) {
	d := time.Date(2029, 11, 21, 12, 0, 0, 0, time.UTC)
	for lang, want := range map[string]string{"en": "21 Nov 2029", "fr": "21/11/2029", "it": "21/11/2029"} {
		if got := New(lang).Date(d); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
}

// A desktop-app variant ("key.gui") stands for an existing message, which
// the app's Printer then says in its own words and the command line's does
// not.
func TestGUIVariants(t *testing.T) {
	cat, _ := Catalog()
	n := 0
	for key := range cat["en"] {
		base, ok := strings.CutSuffix(key, ".gui")
		if !ok {
			continue
		}
		n++
		if _, ok := cat["en"][base]; !ok {
			t.Errorf("%s has no %s to stand for", key, base)
		}
		if gui, cli := NewVariant("en", "gui").T(base), New("en").T(base); gui != cat["en"][key] || cli != cat["en"][base] {
			t.Errorf("%s: gui %q, cli %q", base, gui, cli)
		}
	}
	if n == 0 {
		t.Fatal("no .gui variants")
	}
}

// The lists TestKeysUsedExist goes through are whole: every constant of
// the list's type (or, for an untyped family, of its name's prefix) in the
// package's source is in the list, so that a new one is checked too.
func TestListsAreWhole(t *testing.T) {
	for _, l := range []struct {
		dir, list, typ, prefix string
	}{
		{"netcheck", "Checks", "Check", ""},
		{"netcheck", "Codes", "Code", ""},
		{"netcheck", "Fixes", "Fix", ""},
		{"netcheck", "Verdicts", "Verdict", ""},
		{"config", "Stores", "Store", ""},
		{"pdf", "Problems", "Problem", ""},
		{"pdf", "TrustProblems", "TrustProblem", ""},
		{"pdf", "AnchorSources", "AnchorSource", ""},
		{"pdf", "Revocations", "Revocation", ""},
		{"pdf", "Changes", "", "Change"},
	} {
		consts, listed := declared(t, filepath.Join("..", "..", l.dir), l.list, l.typ, l.prefix)
		if len(consts) < 2 || len(listed) < 2 {
			t.Errorf("%s: found %d constants and %d listed in %s: the scan is broken", l.dir, len(consts), len(listed), l.list)
		}
		for _, c := range consts {
			if !slices.Contains(listed, c) {
				t.Errorf("%s.%s is not in %s.%s", l.dir, c, l.dir, l.list)
			}
		}
	}
}

// declared returns the constants of package dir of type typ (or, with typ
// empty, named prefix…), and the names listed in its variable list.
func declared(t *testing.T, dir, list, typ, prefix string) (consts, listed []string) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || (g.Tok != token.CONST && g.Tok != token.VAR) {
				continue
			}
			typed := false // a block of typ's constants, where one without a type is untyped
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				id, _ := vs.Type.(*ast.Ident)
				typed = typed || (typ != "" && id != nil && id.Name == typ)
				if g.Tok == token.CONST && typed && vs.Type == nil && len(vs.Values) > 0 {
					t.Errorf("%s: %s is untyped among the %s constants", dir, vs.Names[0].Name, typ)
				}
				for i, name := range vs.Names {
					switch {
					case g.Tok == token.CONST && typ != "" && id != nil && id.Name == typ,
						g.Tok == token.CONST && typ == "" && strings.HasPrefix(name.Name, prefix) && vs.Type == nil:
						consts = append(consts, name.Name)
					case g.Tok == token.VAR && name.Name == list && i < len(vs.Values):
						if cl, ok := vs.Values[i].(*ast.CompositeLit); ok {
							for _, e := range cl.Elts {
								if id, ok := e.(*ast.Ident); ok {
									listed = append(listed, id.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	return consts, listed
}

// French puts a narrow no-break space (U+202F) before ":", ";", "?" and
// "!" and inside « », so that a line never starts with the mark; the
// command names that open a line ("paraphe: …") keep the programs' own
// form.
func TestFrenchTypography(t *testing.T) {
	cat, _ := Catalog()
	// A mark ends a word when a space, the end, or closing punctuation
	// follows it (not "6;keychain" in a policy's syntax).
	bad := regexp.MustCompile(`( |[\p{L}\p{N})»}]|\x{a0})[:]($|\s)|( |[\p{L}\p{N})»}]|\x{a0})[;?!]($|\s|[)»])|« | »|«[^\x{202f}]|[^\x{202f}]»`)
	for k, v := range cat["fr"] {
		v = regexp.MustCompile(`^paraphe(-ca)?: `).ReplaceAllString(v, "")
		for _, m := range bad.FindAllStringIndex(v, -1) {
			t.Errorf("fr %s: %q", k, v[max(0, m[0]-20):min(len(v), m[1]+10)])
		}
	}
}
