package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/testenv"
)

// Every page renders without a warning from man (groff's checks), with
// the sections the usage texts give.
func TestPages(t *testing.T) {
	testenv.Require(t, "man")
	cat, err := i18n.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			var b bytes.Buffer
			p.write(&b, cat["en"], "1.2.3")
			file := filepath.Join(t.TempDir(), p.name+".1")
			os.WriteFile(file, b.Bytes(), 0o644)
			cmd := exec.Command("man", "--warnings", "-l", file)
			cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Fatalf("man: %v\n%s", err, stderr.String())
			}
			if !regexp.MustCompile(`NAME\n +` + p.name + ` +- +\S`).MatchString(stdout.String()) {
				t.Errorf("no NAME line:\n%s", stdout.String())
			}
			for _, want := range []string{"SYNOPSIS", "DESCRIPTION", "EXAMPLES", "EXIT STATUS", "SEE ALSO"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("the page lacks %q:\n%s", want, stdout.String())
				}
			}
		})
	}
}

// What the pages say of the secure folders: paraphe-exchange's commands as
// typed ("user add", not the catalogue's "user_add") with their flags and
// exit codes; paraphe's send and receive with theirs and their
// environment; each page naming the others.
func TestSecureFoldersPages(t *testing.T) {
	testenv.Require(t, "man")
	cat, err := i18n.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	render := func(name string) string {
		t.Helper()
		i := slices.IndexFunc(pages, func(p page) bool { return p.name == name })
		if i < 0 {
			t.Fatalf("no page %s", name)
		}
		var b bytes.Buffer
		pages[i].write(&b, cat["en"], "1.2.3")
		file := filepath.Join(t.TempDir(), name+".1")
		os.WriteFile(file, b.Bytes(), 0o644)
		cmd := exec.Command("man", "-l", file)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=200")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	for name, wants := range map[string][]string{
		"paraphe-exchange": {"   user add\n", "   serve\n", "--trusted-proxies", "6 account made but its invitation not mailed", "paraphe(1), paraphe-ca(1)"},
		"paraphe":          {"   send\n", "   receive\n", "49 the exchange refused", "PARAPHE_EXCHANGE_PASSWORD", "paraphe-ca(1), paraphe-exchange(1)"},
	} {
		out := render(name)
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("man %s lacks %q", name, w)
			}
		}
	}
}
