package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// startBins starts n copies of one paraphe command at once and waits for
// them all: what a script (or an attacker) running them in parallel does.
func startBins(t *testing.T, n int, env []string, args ...string) []result {
	t.Helper()
	cmds := make([]*exec.Cmd, n)
	outs := make([][2]*bytes.Buffer, n)
	for i := range cmds {
		c := exec.Command(filepath.Join(binDir, "paraphe"), args...)
		c.Env = append(append(os.Environ(), "PARAPHE_LANG=en"), env...)
		outs[i] = [2]*bytes.Buffer{{}, {}}
		c.Stdout, c.Stderr = outs[i][0], outs[i][1]
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = c
	}
	res := make([]result, n)
	for i, c := range cmds {
		err := c.Wait()
		res[i] = result{stdout: outs[i][0].String(), stderr: outs[i][1].String()}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res[i].code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// Five tries means five, however many processes try at once: 30 wrong PINs
// from 10 parallel "paraphe sign" (three rounds) get exactly four "wrong
// PIN, n tries left" answers (4, 3, 2, 1), the fifth locks the key, and the
// right PIN no longer signs.
func TestWrongPINsFromParallelProcesses(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	in := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(in, minimalPDF(), 0o644)
	wrong := append([]string{"PARAPHE_PIN=Wrong-Pin-1"}, w.env...)
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
	r := runBin(t, "", append([]string{"PARAPHE_PIN=" + testPIN}, w.env...), "paraphe", "sign", "--level", "B-B", in)
	if r.code != explain.ExitPINLocked || !strings.Contains(r.stderr, "new reference code") {
		t.Fatalf("right PIN on the locked key: %+v", r)
	}
	if _, err := os.Stat(strings.TrimSuffix(in, ".pdf") + "-signed.pdf"); err == nil {
		t.Fatal("a locked key signed")
	}
}

// A PIN change re-seals the key under a new wrapping key: a copy of the key
// file made before the change (a backup, or a thief's copy along with the
// old PIN) no longer opens, with the old PIN or any other, and says why
// without spending a try.
func TestPINChangeRetiresOldKeyFile(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	id := w.certs(t)[0].ID
	keyFile := filepath.Join(w.home, "keys", id+".key")
	old := mustReadFile(t, keyFile)
	const newPIN = "N3w-Secret!"
	if r := runBin(t, "", append([]string{"PARAPHE_PIN=" + testPIN, "PARAPHE_NEW_PIN=" + newPIN}, w.env...), "paraphe", "pin", "change"); r.code != 0 {
		t.Fatalf("pin change: %+v", r)
	}
	current := mustReadFile(t, keyFile)
	if err := os.WriteFile(keyFile, old, 0o600); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "deed.pdf")
	os.WriteFile(in, minimalPDF(), 0o644)
	for _, pin := range []string{testPIN, newPIN} {
		r := runBin(t, "", append([]string{"PARAPHE_PIN=" + pin}, w.env...), "paraphe", "sign", "--level", "B-B", in)
		if r.code != explain.ExitKeyFileStale || !strings.Contains(r.stderr, "older copy") {
			t.Fatalf("the restored key file with PIN %q: %+v", pin, r)
		}
	}
	// The current file still opens with the new PIN, all tries left.
	os.WriteFile(keyFile, current, 0o600)
	if r := runBin(t, "", append([]string{"PARAPHE_PIN=Wrong-Pin-1"}, w.env...), "paraphe", "sign", "--level", "B-B", in); r.code != explain.ExitWrongPIN || !strings.Contains(r.stderr, "4 tries left") {
		t.Fatalf("a wrong PIN after the restored file: %+v", r)
	}
	if r := runBin(t, "", append([]string{"PARAPHE_PIN=" + newPIN}, w.env...), "paraphe", "sign", "--level", "B-B", in); r.code != 0 {
		t.Fatalf("the new PIN on the current file: %+v", r)
	}
}
