package postgres

import (
	"os/exec"
	"syscall"
)

// endsWithParent has the server stopped (SIGINT: a fast shutdown) when
// this process ends, however it ends: scripts/postgres.sh execs the server
// in the same process, and setpriv sets the signal again after it changes
// the user, which clears it.
func endsWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
}
