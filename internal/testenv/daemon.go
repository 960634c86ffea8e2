package testenv

import (
	"bufio"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startDaemon starts cmd, stops it when the test ends, and returns once the
// daemon has written readyLine on its standard error and addr accepts
// connections: daemons may log that they are ready before they call
// listen(). logHint says where to look when it does not start.
func startDaemon(t testing.TB, cmd *exec.Cmd, readyLine, addr, logHint string) {
	t.Helper()
	name := filepath.Base(cmd.Path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), readyLine) {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("%s did not start (see %s)", name, logHint)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30 s (see %s)", name, logHint)
	}
	if err := waitAccepting(addr, 10*time.Second); err != nil {
		t.Fatalf("%s logged that it is ready, but: %v", name, err)
	}
}

// waitAccepting dials addr until a connection is accepted or the timeout
// passes.
func waitAccepting(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
