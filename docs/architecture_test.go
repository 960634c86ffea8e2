// Package docs holds the project's documentation; its tests keep
// ARCHITECTURE.md true (the packages' imports follow the layers and rules
// written below as data, and the document shows the same layers) and the
// functions short (funclen_test.go).
package docs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/paraphe/paraphe"

// layers, bottom first: a package imports only from layers below its own,
// never from its own, except the helpers (and a package's own internal
// packages, which belong to it). testOnly packages serve tests and no
// other code imports them.
var (
	layers = [][]string{
		{"internal/atomicfile", "internal/clocale", "internal/sqldb", "internal/kdfcost", "assets", "cms", "render"},
		{"config", "pkcs", "pdf", "protocol", "internal/i18n", "internal/cli", "internal/desktop", "internal/instance"},
		{"netclient", "trust", "ca", "cades", "pkcs/remote", "internal/verdict", "portal"},
		{"activation", "netcheck", "exchange", "parcel"},
		{"internal/local", "internal/demo"},
		{"internal/explain", "bridge"},
		{"app"},
		{"cmd/paraphe", "cmd/paraphe-ca", "cmd/paraphe-exchange", "cmd/paraphe-portal", "installer/mangen"},
	}
	helpers  = []string{"internal/atomicfile"}
	testOnly = []string{"internal/testenv", "internal/testenv/postgres", "internal/benchtool", "trust/tltest", "installer", "docs"}
)

// importsOnly: these import nothing of the project but what is listed
// (their own internal packages aside).
var importsOnly = map[string][]string{
	"pkcs": {"internal/atomicfile", "internal/kdfcost"},
	"pdf":  {"internal/atomicfile", "cms"},
	// CMS reading, verifying and building is anyone's: PAdES, CAdES.
	"cms":      {},
	"protocol": helpers,
	// The desktop's dialogs and file manager speak D-Bus, comdlg32 or
	// AppleScript, and nothing of Paraphe.
	"internal/desktop": {},
	// The CA never imports the client side (policy, the way out,
	// activation, the doctor, this computer, the screens): its clients'
	// policy is theirs to write (config.PolicyFor). Nor pkcs, whose tests
	// start a CA (internal/testenv): the binaries hand it its keys on a
	// token as a ca.Token (pkcs.TokenKeys).
	"ca": {"protocol", "internal/atomicfile", "internal/sqldb", "internal/kdfcost"},
	// The remote key store speaks the CSC API (protocol's types) through
	// the http.Client internal/local gives it.
	"pkcs/remote": {"pkcs", "protocol", "internal/atomicfile"},
	// CAdES files are judged and signed by pdf's machinery, over cms.
	"cades": {"pdf", "cms", "internal/atomicfile"},
	// The exchange's client side takes its http.Client from its caller
	// and encrypts with cms: it reads no policy.
	"parcel": {"cms"},
	// A signature's verdict in words, for the app, the CLI and the
	// exchange's pages alike.
	"internal/verdict": {"pdf", "internal/i18n"},
	// The parcels server never imports the client side either; it says
	// each PDF's verdict through internal/verdict, and judges the
	// encryption certificates users register by cms's rules.
	"exchange": {"pdf", "cms", "internal/verdict", "internal/i18n", "internal/atomicfile", "internal/sqldb", "assets"},
	// The portal is a relying party: it judges certificates with pdf's
	// machinery and says things with the catalogue; it has no key store,
	// no policy, no way out of its own.
	"portal": {"pdf", "cms", "internal/i18n", "assets", "internal/atomicfile", "internal/sqldb"},
}

// importedOnlyBy: a package (or, ending in "/", every package under a
// path), project or not, that only these import.
var importedOnlyBy = map[string][]string{
	// Nothing below cmd imports the screens.
	module + "/app": {"cmd/paraphe"},
	// Only the screens use the toolkit; its driver is started by the
	// command, so that the screens' tests need no cgo and no display.
	"fyne.io/fyne/v2/":    {"app", "cmd/paraphe"},
	"fyne.io/fyne/v2/app": {"cmd/paraphe"},
	// The command line's pieces; the app says errors through explain.
	module + "/internal/cli": {"cmd/paraphe", "cmd/paraphe-ca", "cmd/paraphe-exchange", "cmd/paraphe-portal"},
	// The demo CA is handed to the app by the command (app.DemoCA).
	module + "/internal/demo": {"cmd/paraphe"},
	// The desktop's dialogs are the screens' (cmd/paraphe's CLI asks none).
	module + "/internal/desktop": {"app"},
	// The signing bridge serves the desktop app and paraphe bridge.
	module + "/bridge": {"app", "cmd/paraphe"},
	// Argon2id's costs: the product's, or under -short the quick tests'
	// (testenv.QuickKDFInShort), and no one else's.
	module + "/internal/kdfcost": {"pkcs", "ca", "internal/testenv"},
	// PAC files are the way out's business.
	"github.com/dop251/goja": {"netclient"},
}

// neverDependsOn: what a package must not link, however indirectly.
var neverDependsOn = map[string][]string{
	"cmd/paraphe-ca": {"github.com/dop251/goja", "fyne.io/fyne/v2", module + "/netclient", module + "/app"},
	"cmd/paraphe-exchange": {"github.com/dop251/goja", "fyne.io/fyne/v2", module + "/netclient", module + "/app",
		module + "/config", module + "/activation", module + "/internal/explain", module + "/internal/local"},
	"app":        {module + "/ca", module + "/internal/demo", module + "/internal/cli"},
	"ca":         {module + "/config", module + "/netclient"},
	"pkcs":       {"fyne.io/fyne/v2"},
	"pdf":        {"fyne.io/fyne/v2"},
	"cms":        {"fyne.io/fyne/v2"},
	"cades":      {"fyne.io/fyne/v2"},
	"activation": {"fyne.io/fyne/v2"},
	"netcheck":   {"fyne.io/fyne/v2"},
	// The bridge asks through a Consenter: the app's dialog, a terminal.
	"bridge": {"fyne.io/fyne/v2", module + "/app"},
	// A relying party links nothing of the holder's side.
	"portal":             {"fyne.io/fyne/v2", module + "/pkcs", module + "/config", module + "/netclient", module + "/app", module + "/bridge", module + "/internal/local", module + "/activation"},
	"cmd/paraphe-portal": {"fyne.io/fyne/v2", "github.com/dop251/goja", module + "/pkcs", module + "/netclient", module + "/app", module + "/bridge", module + "/internal/local", module + "/activation"},
}

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// goList lists the module's packages, their direct and their transitive
// imports (tests left out: their imports are what the test-only packages
// are for).
func goList(t *testing.T) map[string]listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")] = p
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// own maps a project package to the package it belongs to: itself, or
// the package whose internal folder holds it (pdf/internal/cos → pdf).
func own(path string) string {
	if i := strings.Index(path, "/internal/"); i > 0 {
		return path[:i]
	}
	return path
}

func matches(pattern, path string) bool {
	if strings.HasSuffix(pattern, "/") {
		return path == strings.TrimSuffix(pattern, "/") || strings.HasPrefix(path, pattern)
	}
	return path == pattern
}

func TestImportsFollowTheLayers(t *testing.T) {
	pkgs := goList(t)
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layerOf[p] = i
		}
	}
	for path, p := range pkgs {
		if slices.Contains(testOnly, path) {
			continue // they may import anything; TestImportRules keeps them in tests
		}
		if _, ok := layerOf[own(path)]; !ok {
			t.Errorf("%s is in no layer: place it in docs/ARCHITECTURE.md and in this test's layers", path)
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			switch {
			case slices.Contains(testOnly, dep):
				t.Errorf("%s imports %s, which is for tests only", path, dep)
			case own(dep) == own(path), slices.Contains(helpers, dep):
			case layerOf[own(dep)] >= layerOf[own(path)]:
				t.Errorf("%s (layer %d) imports %s (layer %d): arrows point down only", path, layerOf[own(path)], dep, layerOf[own(dep)])
			}
		}
	}
}

func TestImportRules(t *testing.T) {
	pkgs := goList(t)
	for pkg, allowed := range importsOnly {
		for _, imp := range pkgs[pkg].Imports {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok && own(dep) != pkg && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s: it may import only %v", pkg, dep, allowed)
			}
		}
	}
	for path, p := range pkgs {
		for _, imp := range p.Imports {
			for pattern, importers := range importedOnlyBy {
				if matches(pattern, imp) && !slices.Contains(importers, path) && own(strings.TrimPrefix(imp, module+"/")) != own(path) {
					t.Errorf("%s imports %s: only %v may", path, imp, importers)
				}
			}
		}
	}
	for pkg, never := range neverDependsOn {
		p, ok := pkgs[pkg]
		if !ok {
			t.Errorf("no package %s", pkg)
		}
		for _, n := range never {
			if i := slices.IndexFunc(p.Deps, func(dep string) bool { return dep == n || strings.HasPrefix(dep, n+"/") }); i >= 0 {
				t.Errorf("%s links %s", pkg, p.Deps[i])
			}
		}
	}
}

// The layers drawn in ARCHITECTURE.md are the test's: one line per layer
// in its layers block.
func TestArchitectureShowsTheLayers(t *testing.T) {
	f, err := os.Open("ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// "N  pkg pkg pkg  what they own": packages one space apart, then
	// two spaces or more before the words.
	line := regexp.MustCompile(`^([0-9])  (\S+(?: \S+)*)(?:  +.*)?$`)
	drawn := map[int][]string{}
	sc := bufio.NewScanner(f)
	inLayers := false
	for sc.Scan() {
		s := sc.Text()
		switch {
		case strings.HasPrefix(s, "```layers"):
			inLayers = true
		case inLayers && s == "```":
			inLayers = false
		case inLayers:
			m := line.FindStringSubmatch(s)
			if m == nil {
				continue
			}
			n := int(m[1][0] - '0')
			drawn[n] = strings.Fields(m[2])
		}
	}
	if len(drawn) == 0 {
		t.Fatal("ARCHITECTURE.md draws no layers (a ```layers block)")
	}
	for i, l := range layers {
		got, want := fmt.Sprint(drawn[i]), fmt.Sprint(l)
		if got != want {
			t.Errorf("layer %d: ARCHITECTURE.md shows %s, the test %s", i, got, want)
		}
	}
	if len(drawn) != len(layers) {
		t.Errorf("ARCHITECTURE.md draws %d layers, the test has %d", len(drawn), len(layers))
	}
}
