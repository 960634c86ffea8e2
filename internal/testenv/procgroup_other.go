//go:build !unix

package testenv

import (
	"os"
	"os/exec"
)

// Without process groups, the process alone.

func ownGroup(*exec.Cmd) {}

func terminateGroup(cmd *exec.Cmd) { cmd.Process.Signal(os.Interrupt) }

func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }
