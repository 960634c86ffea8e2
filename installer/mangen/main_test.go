package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
