// Package testenv starts the real services Paraphe's tests need, each on
// loopback or in a private temporary folder, and tears them down: a Secret
// Service (private D-Bus session bus + gnome-keyring), a SoftHSM2 token,
// the XDG desktop portal with GTK's file chooser on a virtual display
// (StartDesktopPortal), a PostgreSQL server (Postgres, through the
// postgres subpackage and scripts/postgres.sh), a TCP balancer in front of
// replicas (StartBalancer), and the paraphe-ca server (in process or as a
// process); RunScripts gives the command-line transcripts (testscript)
// commands that start them.
//
// When CI=true a missing service is a test failure, never a silent skip.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require skips the test when a command is missing, or fails it in CI.
func Require(t testing.TB, commands ...string) {
	t.Helper()
	for _, c := range commands {
		if _, err := exec.LookPath(c); err != nil {
			Missing(t, c+" is not installed (make deps installs it)")
		}
	}
}

// NeedRoot skips the test unless it runs as root (which it needs for
// what), or fails it in CI, which runs as root.
func NeedRoot(t testing.TB, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, what+" needs root")
	}
}

// Slow skips the test in short mode (go test -short, make check), saying
// what makes it slow; make test runs it.
func Slow(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow (" + why + "): make test runs it")
	}
}

// Missing skips the test with reason, or fails it in CI.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("required service missing in CI: %s", reason)
	}
	t.Skip(reason)
}
