package installer

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The systemd user units that start the bridge at login: systemd's own
// verifier accepts them, the socket is the policy's default port on the
// loopback address only, the service runs the packaged binary in its
// desktop mode, and both are in the packages. (cmd/paraphe's
// bridge-desktop.txtar runs that command on a socket handed over the same
// way; TestDebContents finds the files in the built .deb.)
func TestSystemdUnits(t *testing.T) {
	socket, _ := os.ReadFile("linux/paraphe-bridge.socket")
	service, _ := os.ReadFile("linux/paraphe-bridge.service")
	want := "127.0.0.1:" + strconv.Itoa(config.DefaultBridgePort)
	if got := unitValues(socket, "ListenStream"); len(got) != 1 || got[0] != want {
		t.Errorf("ListenStream %q, want only %s", got, want)
	}
	if got := unitValues(service, "ExecStart"); len(got) != 1 || got[0] != "/usr/bin/paraphe bridge --desktop" {
		t.Errorf("ExecStart %q", got)
	}
	if got := unitValues(socket, "WantedBy"); len(got) != 1 || got[0] != "sockets.target" {
		t.Errorf("the socket is wanted by %q", got)
	}
	nfpm, _ := os.ReadFile("linux/nfpm.yaml")
	for _, unit := range []string{"paraphe-bridge.socket", "paraphe-bridge.service"} {
		if !regexp.MustCompile(`src: installer/linux/` + unit + `\n\s+dst: /usr/lib/systemd/user/` + unit + `\n`).Match(nfpm) {
			t.Errorf("nfpm.yaml does not install %s in /usr/lib/systemd/user", unit)
		}
	}

	// systemd-analyze verify checks every key and that ExecStart's program
	// is executable: a copy whose program is a file of the test's.
	testenv.Require(t, "systemd-analyze")
	dir := t.TempDir()
	exe := filepath.Join(dir, "paraphe")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "paraphe-bridge.socket"), socket, 0o644)
	os.WriteFile(filepath.Join(dir, "paraphe-bridge.service"), []byte(strings.ReplaceAll(string(service), "/usr/bin/paraphe", exe)), 0o644)
	cmd := exec.Command("systemd-analyze", "--user", "--man=no", "verify",
		filepath.Join(dir, "paraphe-bridge.socket"), filepath.Join(dir, "paraphe-bridge.service"))
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir()) // the user manager's, which verify simulates
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// unitValues returns the values of key in a unit file, in order.
func unitValues(unit []byte, key string) []string {
	var vs []string
	for _, l := range strings.Split(string(unit), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			vs = append(vs, strings.TrimSpace(v))
		}
	}
	return vs
}
