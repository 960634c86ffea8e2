package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// letterPDF is makePDF with US-Letter pages instead of A4 (same length, so
// the cross-reference offsets stay right).
func letterPDF(n int) []byte {
	return bytes.Replace(makePDF(n, false), []byte("/MediaBox [0 0 595 842]"), []byte("/MediaBox [0 0 612 792]"), 1)
}

// One visible signature setting for a batch of A4 and US-Letter files,
// signed at once (run under -race, as make test runs the pdf package's
// batch tests): each stamp sits in the corner of its own page, as qpdf
// reads the output files.
func TestBatchStampInEachPagesCorner(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	sizes := map[string][2]float64{"a4": {595, 842}, "letter": {612, 792}}
	var jobs []Job
	for i := range 6 {
		name := []string{"a4", "letter"}[i%2]
		in := filepath.Join(dir, fmt.Sprintf("%s-%d.pdf", name, i))
		data := makePDF(1, false)
		if name == "letter" {
			data = letterPDF(1)
		}
		os.WriteFile(in, data, 0o644)
		jobs = append(jobs, Job{In: in, Out: OutputName(in)})
	}
	app := &Appearance{Corner: CornerTopRight}
	s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: app}}
	var mu sync.Mutex
	started, done := map[int]bool{}, map[int]bool{}
	results := s.SignFiles(context.Background(), jobs, Progress{
		Started: func(i int) { mu.Lock(); started[i] = true; mu.Unlock() },
		Done:    func(i int, r JobResult) { mu.Lock(); done[i] = r.Err == nil; mu.Unlock() },
	})
	if len(results) != len(jobs) || len(started) != len(jobs) || len(done) != len(jobs) {
		t.Fatalf("%d results, %d started, %d done for %d files", len(results), len(started), len(done), len(jobs))
	}
	for i, r := range results {
		if r.Err != nil || !done[i] {
			t.Fatalf("%s: %v", jobs[i].In, r.Err)
		}
		size := sizes[strings.Split(filepath.Base(jobs[i].In), "-")[0]]
		want := CornerRect(CornerTopRight, size[0], size[1])
		if got := qpdfWidgets(t, r.Output)[r.Field]; len(got) != 1 || got[0] != (Widget{Page: 1, Rect: want}) {
			t.Errorf("%s: stamp at %v, want the top-right corner of page 1, a %v page: %v", filepath.Base(jobs[i].In), got, size, want)
		}
	}
	if app.Rect != ([4]float64{}) {
		t.Errorf("the shared appearance was changed: %v", app.Rect)
	}
}

// Cancelling a batch: the files under way finish (or fail), the others are
// not signed and leave no output, and every file is reported once.
func TestBatchCancelled(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	var jobs []Job
	for i := range 8 {
		in := filepath.Join(dir, fmt.Sprintf("deed-%d.pdf", i))
		os.WriteFile(in, makePDF(1, false), 0o644)
		jobs = append(jobs, Job{In: in, Out: OutputName(in)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Signer{Key: p.key, Chain: p.chain()}
	var mu sync.Mutex
	done := map[int]int{}
	results := s.SignFiles(ctx, jobs, Progress{
		Started: func(int) { cancel() },
		Done:    func(i int, _ JobResult) { mu.Lock(); done[i]++; mu.Unlock() },
	})
	cancelled := 0
	for i, r := range results {
		_, statErr := os.Stat(jobs[i].Out)
		switch {
		case done[i] != 1:
			t.Errorf("%s reported %d times", jobs[i].In, done[i])
		case r.Err == nil && statErr != nil:
			t.Errorf("%s signed without output: %v", jobs[i].In, statErr)
		case r.Err != nil && (!errors.Is(r.Err, context.Canceled) || statErr == nil):
			t.Errorf("%s: %v, output %v", jobs[i].In, r.Err, statErr)
		case r.Err != nil:
			cancelled++
		}
	}
	if cancelled < len(jobs)-runtime.NumCPU() {
		t.Fatalf("%d of %d files cancelled", cancelled, len(jobs))
	}
}
