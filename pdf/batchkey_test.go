package pdf

import (
	"context"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// batchKey is a software key that signs a batch under one
// authorisation, as a remote key does: it counts its authorisations and
// refuses single signatures.
type batchKey struct {
	crypto.Signer
	mu        sync.Mutex
	batches   [][][]byte // the digests of each SignDigests
	singles   int
	fail      error
	meanwhile func() // runs while the batch is authorised
}

func (k *batchKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	k.mu.Lock()
	k.singles++
	k.mu.Unlock()
	return nil, errors.New("a batch key signs batches")
}

func (k *batchKey) SignDigests(_ context.Context, digests [][]byte, opts crypto.SignerOpts) ([][]byte, error) {
	k.mu.Lock()
	k.batches = append(k.batches, digests)
	k.mu.Unlock()
	if k.meanwhile != nil {
		k.meanwhile()
	}
	if k.fail != nil {
		return nil, k.fail
	}
	var out [][]byte
	for _, d := range digests {
		s, err := k.Signer.Sign(rand.Reader, d, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// wrapped hides a key behind Unwrap, as pkcs.Key does.
type wrapped struct{ crypto.Signer }

func (w wrapped) Unwrap() crypto.Signer { return w.Signer }

func batchJobs(t *testing.T, n int) (string, []Job) {
	t.Helper()
	dir := t.TempDir()
	var jobs []Job
	for i := range n {
		in := filepath.Join(dir, fmt.Sprintf("deed-%02d.pdf", i))
		if err := os.WriteFile(in, makePDF(1+i%3, false), 0o644); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, Job{In: in, Out: OutputName(in)})
	}
	return dir, jobs
}

// A key that authorises a batch at a time (behind the key that wraps it)
// is asked once for all the files' digests, and never for one; every
// signature is valid for pdfsig; the first pass writes nothing; a file
// changed while the batch is authorised is not signed, the others are.
func TestBatchSignerOneAuthorisation(t *testing.T) {
	p := newPKI(t)
	dir, jobs := batchJobs(t, 12)
	key := &batchKey{Signer: p.key}
	key.meanwhile = func() {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(names) != len(jobs) {
			t.Errorf("the first pass wrote files: %v", names)
		}
		os.WriteFile(jobs[5].In, makePDF(2, true), 0o644) // changed meanwhile
	}
	app := &Appearance{Corner: CornerTopRight}
	s := &Signer{Key: wrapped{key}, Chain: p.chain(), Opts: Options{Appearance: app, Reason: "Batch"}}
	var mu sync.Mutex
	done := map[int]int{}
	results := s.SignFiles(context.Background(), jobs, Progress{Done: func(i int, _ JobResult) { mu.Lock(); done[i]++; mu.Unlock() }})
	if len(key.batches) != 1 || len(key.batches[0]) != len(jobs) || key.singles != 0 {
		t.Fatalf("%d authorisations (of %d digests), %d single signatures; want 1 of %d, none", len(key.batches), len(key.batches[0]), key.singles, len(jobs))
	}
	db := nssDB(t, p.root)
	for i, r := range results {
		if done[i] != 1 {
			t.Errorf("%s reported %d times", jobs[i].In, done[i])
		}
		if i == 5 {
			if !errors.Is(r.Err, ErrChangedInBatch) {
				t.Errorf("a file changed during the batch: %v", r.Err)
			}
			if _, err := os.Stat(jobs[i].Out); err == nil {
				t.Errorf("a file changed during the batch was signed")
			}
			continue
		}
		if r.Err != nil {
			t.Fatalf("%s: %v", jobs[i].In, r.Err)
		}
		if out := pdfsig(t, db, r.Output); !strings.Contains(out, "Signature is Valid.") || !strings.Contains(out, "Total document signed") {
			t.Errorf("pdfsig %s:\n%s", r.Output, out)
		}
	}
}

// An authorisation refused (a wrong PIN) fails every file with its
// error, and leaves no output.
func TestBatchSignerRefused(t *testing.T) {
	p := newPKI(t)
	_, jobs := batchJobs(t, 4)
	refused := errors.New("wrong PIN")
	s := &Signer{Key: &batchKey{Signer: p.key, fail: refused}, Chain: p.chain()}
	for i, r := range s.SignFiles(context.Background(), jobs, Progress{}) {
		if !errors.Is(r.Err, refused) {
			t.Errorf("%s: %v", jobs[i].In, r.Err)
		}
		if _, err := os.Stat(jobs[i].Out); err == nil {
			t.Errorf("%s written", jobs[i].Out)
		}
	}
}
