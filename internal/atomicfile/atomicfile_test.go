package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := Create(p, 0o640, func(w io.Writer) error { _, err := w.Write([]byte("one")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Fatalf("content %q", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v", fi.Mode())
	}
	// An existing file is never replaced, and write is not even called.
	called := false
	err := Create(p, 0o640, func(io.Writer) error { called = true; return nil })
	if !errors.Is(err, fs.ErrExist) || called {
		t.Fatalf("over an existing file: %v (write called: %v)", err, called)
	}
	// A failed write leaves nothing.
	boom := errors.New("boom")
	q := filepath.Join(dir, "failed")
	if err := Create(q, 0o640, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

// Writers racing for one name: exactly one wins, the others get
// fs.ErrExist, and the file is whole, the winner's.
func TestCreateRace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Create(p, 0o600, func(w io.Writer) error {
				<-start
				_, err := w.Write([]byte{byte('a' + i), byte('a' + i), byte('a' + i)})
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("writers %d and %d both created the file", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	b, _ := os.ReadFile(p)
	if won < 0 || string(b) != string([]byte{byte('a' + won), byte('a' + won), byte('a' + won)}) {
		t.Fatalf("winner %d, content %q", won, b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}

// Replace replaces the file at path whole, and on an error leaves the
// old one and nothing else.
func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "doc")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Replace(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Fatalf("replaced with %q", got)
	}
	boom := errors.New("boom")
	if err := Replace(path, 0o644, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("an error: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if got, _ := os.ReadFile(path); string(got) != "new" || len(entries) != 1 {
		t.Fatalf("after an error: %q, %v", got, entries)
	}
}
