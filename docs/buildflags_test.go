package docs

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The build flags plain go commands are told to use (go.env, the README)
// are the Makefile's: with others, the desktop toolkit's C code compiles
// again.
func TestBuildFlagsAgree(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	m := regexp.MustCompile(`(?m)^export GOFLAGS \?= (.+)$`).FindStringSubmatch(read("../Makefile"))
	if m == nil {
		t.Fatal("the Makefile sets no GOFLAGS")
	}
	flags := strings.TrimSpace(m[1])
	if e := regexp.MustCompile(`(?m)^GOFLAGS=(.+)$`).FindStringSubmatch(read("../go.env")); e == nil || e[1] != flags {
		t.Errorf("go.env has GOFLAGS %v, the Makefile %q", e, flags)
	}
	if readme := read("../README.md"); !strings.Contains(readme, `go env -w GOFLAGS="`+flags+`"`) {
		t.Errorf("the README does not say go env -w GOFLAGS=%q", flags)
	}
}
