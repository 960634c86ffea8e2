package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// initMax is the most a package may allocate as a command starts.
const initMax = 4 << 20

var initLine = regexp.MustCompile(`(?m)^init (\S+) @.*, (\d+) bytes,`)

// Every command starts light: no package's initialisation allocates more
// than initMax, whatever the command is asked. The CA's and the
// exchange's dummy Argon2id hashes (for unknown names) were made as their
// packages started: 40 MB and 88 ms before every paraphe command's main,
// paraphe's CLI included (it links the demo CA). Allocations are counted
// by the runtime (GODEBUG=inittrace=1), not timed.
func TestStartsLight(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(caBin)
	for _, c := range []struct{ name, bin string }{
		{"paraphe", self},
		{"paraphe-ca", caBin},
		{"paraphe-exchange", filepath.Join(dir, "paraphe-exchange")},
	} {
		cmd := exec.Command(c.bin, "version")
		cmd.Args[0] = c.name // testscript.Main runs paraphe's main under its name
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		out, _ := cmd.CombinedOutput()
		found := initLine.FindAllSubmatch(out, -1)
		if len(found) == 0 {
			t.Fatalf("%s: no inittrace:\n%s", c.name, out)
		}
		for _, m := range found {
			if n, _ := strconv.Atoi(string(m[2])); n > initMax {
				t.Errorf("%s: package %s allocates %d bytes as it starts", c.name, m[1], n)
			}
		}
	}
}
