package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
)

// corpusFiles are the real-world PDFs: those scripts/corpus.sh gathers
// (make test runs it) and the DSS samples in ../shared/corpus.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "pdf", "testdata", "corpus", "*.pdf"))
	if len(files) == 0 {
		testenv.Missing(t, "no corpus: run scripts/corpus.sh (make test does)")
	}
	dss := os.Getenv("PARAPHE_DSS_SAMPLES")
	if dss == "" {
		dss = filepath.Join("..", "..", "..", "shared", "corpus", "dss-samples")
	}
	more, _ := filepath.Glob(filepath.Join(dss, "*.pdf"))
	if len(more) == 0 {
		testenv.Missing(t, "no DSS samples in "+dss+" (set PARAPHE_DSS_SAMPLES)")
	}
	return append(files, more...)
}

// structureDamaged is the test's own judgement, not the signer's: the file
// does not end with %%EOF (ISO 32000-1 7.5.5), or qpdf finds it damaged.
func structureDamaged(t *testing.T, path string, data []byte) bool {
	t.Helper()
	if !bytes.HasSuffix(bytes.TrimRight(data, " \t\r\n\f\x00"), []byte("%%EOF")) {
		return true
	}
	out, _ := exec.Command("qpdf", "--check", path).CombinedOutput()
	return bytes.Contains(out, []byte("file is damaged")) || bytes.Contains(out, []byte("reconstruct"))
}

// qpdfFindsPages reports whether qpdf can read any page of path.
func qpdfFindsPages(path string) bool {
	out, err := exec.Command("qpdf", "--show-npages", path).Output()
	return err == nil && strings.TrimSpace(string(out)) != "0"
}

type signJSON struct {
	Input, Output, Error string
	OK                   bool
	Code                 int
	Repaired             *struct {
		Truncated, Rebuilt bool
		Objects, Pages     int
		PagesDeclared      int `json:"pages_declared"`
	}
}

func signJSONRun(t *testing.T, env []string, args ...string) []signJSON {
	t.Helper()
	r := runBin(t, env, append([]string{"sign", "--level", "B-B", "--json"}, args...)...)
	var res []signJSON
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("sign --json: %v\n%+v", err, r)
	}
	return res
}

// Every corpus file cut at three random places (seeded): paraphe sign
// refuses each cut whose structure is damaged with its own exit code and
// no output; with --repair it signs them and says what was rebuilt, and
// qpdf and pdfsig accept the result; a cut that nothing can read a page of
// (qpdf neither) is refused as damaged; the inputs never change. (What the
// refusals and the repair say in words: testdata/sign-repair.txtar.)
func TestSignCutCorpus(t *testing.T) {
	testenv.Slow(t, "every corpus file cut, signed and judged by qpdf and pdfsig")
	t.Parallel() // beside the transcripts: its key is its own
	testenv.Require(t, "qpdf", "pdfsig")
	sources := corpusFiles(t)
	env := append([]string{"PARAPHE_PIN=" + testPIN}, activated(t)...)
	dir := t.TempDir()
	inDir, plainDir, repairDir := filepath.Join(dir, "in"), filepath.Join(dir, "plain"), filepath.Join(dir, "repaired")
	for _, d := range []string{inDir, plainDir, repairDir} {
		os.Mkdir(d, 0o755)
	}
	rng := rand.New(rand.NewPCG(12, 2026))
	var cuts []string
	sums := map[string][32]byte{}
	damaged := map[string]bool{}
	source := map[string]string{}
	for _, src := range sources {
		data, err := os.ReadFile(src)
		if err != nil || len(data) < 2 {
			t.Fatalf("%s: %v", src, err)
		}
		for k := range 3 {
			cut := data[:1+rng.IntN(len(data)-1)]
			p := filepath.Join(inDir, fmt.Sprintf("%d-%s", k, filepath.Base(src)))
			os.WriteFile(p, cut, 0o644)
			cuts = append(cuts, p)
			sums[p] = sha256.Sum256(cut)
			damaged[p] = structureDamaged(t, p, cut)
			source[p] = src
		}
	}

	// Without --repair: one run for the whole set.
	var refused, past []string
	counts := map[int]int{}
	for _, r := range signJSONRun(t, env, append([]string{"--out-dir", plainDir}, cuts...)...) {
		counts[r.Code]++
		out := filepath.Join(plainDir, strings.TrimSuffix(filepath.Base(r.Input), ".pdf")+"-signed.pdf")
		_, statErr := os.Stat(out)
		switch {
		case r.OK && (damaged[r.Input] || statErr != nil):
			t.Errorf("%s: damaged %v, signed without --repair (output: %v)", r.Input, damaged[r.Input], statErr)
		case !r.OK && statErr == nil:
			t.Errorf("%s: refused (%d), yet %s exists", r.Input, r.Code, out)
		case r.OK:
		case r.Code == explain.ExitPDFNeedsRepair && damaged[r.Input]:
			refused = append(refused, r.Input)
		case r.Code == explain.ExitPDFBad && damaged[r.Input] && !qpdfFindsPages(r.Input):
			past = append(past, r.Input) // past repairing: qpdf finds no page either
		case (r.Code == explain.ExitPDFEncrypted || r.Code == explain.ExitPDFPermission) && exec.Command("qpdf", "--is-encrypted", source[r.Input]).Run() == nil:
			// A protected sample that needs a password, or whose permissions
			// forbid a new signature: said so before any damage.
		default:
			t.Errorf("%s (damaged: %v, qpdf finds pages: %v): exit %d, %s", r.Input, damaged[r.Input], qpdfFindsPages(r.Input), r.Code, r.Error)
		}
	}
	t.Logf("%d cuts of %d files: %v by exit code", len(cuts), len(sources), counts)
	if len(refused) < len(cuts)/3 || len(past) == 0 {
		t.Fatalf("%d of %d cuts to repair, %d past repairing", len(refused), len(cuts), len(past))
	}

	// With --repair: each refused one is signed, and says what was rebuilt.
	for _, r := range signJSONRun(t, env, append([]string{"--repair", "--out-dir", repairDir}, refused...)...) {
		if !r.OK || r.Repaired == nil || !(r.Repaired.Truncated || r.Repaired.Rebuilt) || r.Repaired.Pages < 1 {
			t.Errorf("%s with --repair: %+v", r.Input, r)
			continue
		}
		if out, _ := exec.Command("qpdf", "--check", r.Output).CombinedOutput(); bytes.Contains(out, []byte("file is damaged")) {
			t.Errorf("%s: qpdf finds the repaired copy damaged:\n%s", r.Input, out)
		}
		if out, _ := exec.Command("pdfsig", r.Output).CombinedOutput(); !bytes.Contains(out, []byte("Signature is Valid")) {
			t.Errorf("%s: pdfsig on the repaired copy:\n%s", r.Input, out)
		}
	}

	for _, p := range cuts {
		if data, _ := os.ReadFile(p); sha256.Sum256(data) != sums[p] {
			t.Errorf("%s changed", p)
		}
	}
}
