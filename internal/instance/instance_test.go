package instance

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests run real processes: this test binary, started again as
// helperProcess (INSTANCE_HELPER_DIR set), claims the folder or hands a
// request over, and says which on its standard output; a primary then
// prints each request it is handed, until its standard input closes.

func TestMain(m *testing.M) {
	if dir := os.Getenv("INSTANCE_HELPER_DIR"); dir != "" {
		os.Exit(helperProcess(dir, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

func helperProcess(dir, files string) int {
	req := Request{Show: true}
	if files != "-" {
		req.Files = strings.Split(files, ",")
	}
	p, rep, err := Start(dir, req, 10*time.Second)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	if p == nil {
		fmt.Println("handed", rep.PID)
		return 0
	}
	fmt.Println("primary", os.Getpid())
	var mu sync.Mutex
	go p.Serve(func(r Request) {
		data, _ := json.Marshal(r)
		mu.Lock()
		fmt.Println(string(data))
		mu.Unlock()
	})
	io.Copy(io.Discard, os.Stdin)
	p.Close()
	return 0
}

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func start(t *testing.T, dir, files string) *helper {
	t.Helper()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, files)
	cmd.Env = append(os.Environ(), "INSTANCE_HELPER_DIR="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return h
}

func (h *helper) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			t.Fatal("the process ended without a word")
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("the process said nothing in 30 s")
	}
	return ""
}

func (h *helper) end(t *testing.T) {
	t.Helper()
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func newDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	t.Setenv("PARAPHE_RUNTIME_DIR", dir)
	d, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A second start hands its files to the first and ends; once the first
// ends, the next start is the primary.
func TestSecondStartHandsOver(t *testing.T) {
	dir := newDir(t)
	a := start(t, dir, "-")
	first := a.line(t)
	if !strings.HasPrefix(first, "primary ") {
		t.Fatalf("the first start: %s", first)
	}
	b := start(t, dir, "/srv/a.pdf,/srv/b c.pdf")
	if got := b.line(t); got != "handed "+strings.TrimPrefix(first, "primary ") {
		t.Fatalf("the second start: %s", got)
	}
	b.end(t)
	if got := a.line(t); got != `{"show":true,"files":["/srv/a.pdf","/srv/b c.pdf"]}` {
		t.Fatalf("the primary was handed %s", got)
	}
	a.end(t)
	if _, err := os.Stat(filepath.Join(dir, socketName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket is left behind: %v", err)
	}
	if got := start(t, dir, "-").line(t); !strings.HasPrefix(got, "primary ") {
		t.Fatalf("after the primary ended: %s", got)
	}
}

// A primary killed leaves its socket; the next start finds it dead and
// takes the place.
func TestKilledPrimary(t *testing.T) {
	dir := newDir(t)
	a := start(t, dir, "-")
	a.line(t)
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, socketName)); err != nil {
		t.Fatalf("no socket left to be stale: %v", err)
	}
	if _, err := Send(dir, Request{Show: true}); !errors.Is(err, ErrNone) {
		t.Fatalf("a dead primary answers: %v", err)
	}
	if got := start(t, dir, "-").line(t); !strings.HasPrefix(got, "primary ") {
		t.Fatalf("after the primary was killed: %s", got)
	}
}

// Six starts at once: one primary, the five others handed to it.
func TestStartsAtOnce(t *testing.T) {
	dir := newDir(t)
	var hs []*helper
	for i := range 6 {
		hs = append(hs, start(t, dir, fmt.Sprintf("/f%d.pdf", i)))
	}
	primaries, handed := map[string]bool{}, map[string]int{}
	for _, h := range hs {
		l := h.line(t)
		switch {
		case strings.HasPrefix(l, "primary "):
			primaries[strings.TrimPrefix(l, "primary ")] = true
		case strings.HasPrefix(l, "handed "):
			handed[strings.TrimPrefix(l, "handed ")]++
		default:
			t.Fatalf("a start said %s", l)
		}
	}
	if len(primaries) != 1 || len(handed) != 1 {
		t.Fatalf("primaries %v, handed to %v", primaries, handed)
	}
	for pid := range primaries {
		if handed[pid] != 5 {
			t.Fatalf("primary %s, handed to %v", pid, handed)
		}
	}
}

// A runtime folder others may enter, or that is a link, is refused.
func TestUnsafeDir(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	for _, dir := range []string{open, link} {
		t.Setenv("PARAPHE_RUNTIME_DIR", dir)
		if _, err := Dir(); !errors.Is(err, ErrUnsafeDir) {
			t.Errorf("%s: %v", dir, err)
		}
	}
	if os.Geteuid() == 0 {
		// Made by another user for this one to use: refused.
		theirs := filepath.Join(base, "theirs")
		os.Mkdir(theirs, 0o700)
		os.Chown(theirs, 65534, 65534)
		t.Setenv("PARAPHE_RUNTIME_DIR", theirs)
		if _, err := Dir(); !errors.Is(err, ErrUnsafeDir) {
			t.Errorf("another user's folder: %v", err)
		}
	}
}
