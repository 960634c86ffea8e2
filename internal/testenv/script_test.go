package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// The script commands do what the transcripts rely on: a script that
// should pass passes, and each one that should fail fails (a check that
// cannot fail would let a transcript pass whatever the program does).

func TestScriptCommands(t *testing.T) {
	t.Parallel()
	for name, script := range map[string]string{
		"exits": `exits 3 sh -c 'echo out; echo err >&2; exit 3'
stdout '^out$'
stderr '^err$'
`,
		"grab": `exec printf 'code: ABCD-1234\nlast line\n'
grab LAST
grab CODE PART '^code: (([A-Z]+)-[0-9]+)$'
exec printf '%s|%s|%s' $LAST $CODE $PART
stdout '^last line\|ABCD-1234\|ABCD$'
`,
		"expand": `env NAME=Marie
expand in.tmpl out.txt
grep '^Hello Marie, \$ and Marie$' out.txt
-- in.tmpl --
Hello $NAME, $$ and ${NAME}
`,
		"daemon": `daemon start server '^ready$' sh -c 'trap "echo bye; exit 0" TERM; sleep 30 >/dev/null 2>&1 & echo starting; echo ready; wait'
stdout '^starting\nready\n$'
daemon stop server
stdout '^starting\nready\nbye\n$'
`,
		"jsonedit": `jsonedit in.json out.json ca.url=https://ca.example 'ca.anchors=["ab"]' proxy=none -pin_policy n=3
exec stat -c %a out.json
stdout '^644$'
grep '"url": "https://ca.example"' out.json
grep '"anchors": \[' out.json
grep '"proxy": "none"' out.json
grep '"n": 3' out.json
! grep pin_policy out.json
-- in.json --
{"ca": {"url": "https://old"}, "pin_policy": {"x": 1}}
`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := scriptParams(testscript.Params{Files: []string{writeScript(t, name, script)}})
			testscript.Run(t, p)
		})
	}
}

func TestScriptCommandsFail(t *testing.T) {
	t.Parallel()
	for name, script := range map[string]string{
		"exits-other-status": "exits 2 sh -c 'exit 3'\n",
		"exits-success":      "exits 2 true\n",
		"exits-zero":         "exits 0 true\n",
		"exits-negated":      "! exits 2 sh -c 'exit 2'\n",
		"grab-no-match":      "exec echo hello\ngrab X 'bye (.*)'\n",
		"grab-empty":         "exec true\ngrab X\n",
		"grab-groups":        "exec echo a-b\ngrab X Y '(a)-b'\n",
		"jsonedit-bad-edit":  "jsonedit in.json out.json proxy\n-- in.json --\n{}\n",
		"require-missing":    "require no-such-program-paraphe\n",
		"daemon-ends-early":  "daemon start d '^ready$' sh -c 'echo starting'\n",
		"daemon-stop-fails":  "daemon start d '^ready$' sh -c 'trap \"exit 3\" TERM; sleep 30 >/dev/null 2>&1 & echo ready; wait'\ndaemon stop d\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "require-missing" && !InCI() {
				t.Skip("outside CI a missing program skips the script")
			}
			p := scriptParams(testscript.Params{Files: []string{writeScript(t, name, script)}})
			r := &recordT{TB: t}
			testscript.RunT(r, p)
			if !r.failed() {
				t.Errorf("the script passed:\n%s", script)
			}
		})
	}
}

func writeScript(t *testing.T, name, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".txtar")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// recordT is a testscript.T that records a failure instead of failing
// the test.
type recordT struct {
	testing.TB
	mu        sync.Mutex
	hasFailed bool
}

func (r *recordT) Fatal(args ...any) { r.fail(); runtime.Goexit() }
func (r *recordT) FailNow()          { r.fail(); runtime.Goexit() }
func (r *recordT) Skip(args ...any)  { runtime.Goexit() }
func (r *recordT) Parallel()         {}
func (r *recordT) Verbose() bool     { return false }
func (r *recordT) Log(args ...any)   {}

func (r *recordT) fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hasFailed = true
}

func (r *recordT) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hasFailed
}

// Run runs f to its end, on a goroutine of its own that FailNow may end.
func (r *recordT) Run(name string, f func(testscript.T)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}
