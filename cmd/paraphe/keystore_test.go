package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
)

// startBins starts n copies of one paraphe command at once and waits for
// them all: what a script (or an attacker) running them in parallel does.
func startBins(t *testing.T, n int, env []string, args ...string) []result {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	outs := make([][2]*bytes.Buffer, n)
	for i := range cmds {
		c := paraphe(t, env, args...)
		outs[i] = [2]*bytes.Buffer{{}, {}}
		c.Stdout, c.Stderr = outs[i][0], outs[i][1]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = c
	}
	res := make([]result, n)
	for i, c := range cmds {
		res[i] = waitResult(t, c.Wait(), outs[i][0], outs[i][1])
	}
	return res
}

// Five tries means five, however many processes try at once: 30 wrong PINs
// from 10 parallel "paraphe sign" (three rounds) get exactly four "wrong
// PIN, n tries left" answers (4, 3, 2, 1), the fifth locks the key, and the
// right PIN no longer signs.
func TestWrongPINsFromParallelProcesses(t *testing.T) {
	t.Parallel() // beside the transcripts: its key is its own
	env := activated(t)
	in := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(in, minimalPDF(), 0o644)
	wrong := append([]string{"PARAPHE_PIN=Wrong-Pin-1"}, env...)
	var left []string
	locked := 0
	for round := range 3 {
		for _, r := range startBins(t, 10, wrong, "sign", "--level", "B-B", in) {
			switch {
			case r.code == explain.ExitWrongPIN && strings.Contains(r.stderr, "tries left"):
				i := strings.Index(r.stderr, "wrong PIN (")
				left = append(left, r.stderr[i+len("wrong PIN ("):i+len("wrong PIN (")+1])
			case r.code == explain.ExitPINLocked && strings.Contains(r.stderr, "locked after too many wrong PINs"):
				locked++
			default:
				t.Fatalf("round %d: %+v", round+1, r)
			}
		}
	}
	sort.Strings(left)
	if strings.Join(left, ",") != "1,2,3,4" || locked != 26 {
		t.Errorf("30 wrong PINs in parallel: tries left said %v, %d locked; want 1,2,3,4 and 26 locked", left, locked)
	}
	r := runBin(t, append([]string{"PARAPHE_PIN=" + testPIN}, env...), "sign", "--level", "B-B", in)
	if r.code != explain.ExitPINLocked || !strings.Contains(r.stderr, "new reference code") {
		t.Fatalf("right PIN on the locked key: %+v", r)
	}
	if _, err := os.Stat(strings.TrimSuffix(in, ".pdf") + "-signed.pdf"); err == nil {
		t.Fatal("a locked key signed")
	}
}
