//go:build !linux

package postgres

import "os/exec"

// endsWithParent does nothing here: Stop ends the server.
func endsWithParent(cmd *exec.Cmd) {}
