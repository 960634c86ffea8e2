package main

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/internal/instance"
)

// One application per user (internal/instance, docs/bridge.md "One
// Paraphe per user"): the window opened from the menu and the bridge
// started at login never run side by side. The first to start is the
// primary and serves the bridge; a later start hands its request to it —
// the window brought forward with the files to sign, or nothing for
// another start at login — and ends with status 0.
//
// The primary opened from the menu may find the bridge's port held by a
// socket of this user's: the service manager's (systemd's
// paraphe-bridge.socket), which starts paraphe bridge --desktop on the
// first connection. It then steps aside, connects once so that the
// service starts, and hands its request to the bridge when it answers.

// How long a start waits for a primary that holds the lock but does not
// answer yet (it is starting), and for the bridge a service manager
// starts on its socket.
const (
	instanceWait   = 10 * time.Second
	activationWait = 15 * time.Second
)

// startInstance makes this process the primary, or hands req over:
// handed is then the primary's process id. Without a runtime folder of
// the user's own, it says so and runs alone (p nil).
func (a *app) startInstance(req instance.Request) (p *instance.Primary, handed int, err error) {
	dir, err := instance.Dir()
	var unsafe *instance.UnsafeDirError
	if errors.As(err, &unsafe) {
		fmt.Fprintln(a.stderr, a.p.T("instance.unsafe_dir", "Dir", unsafe.Dir))
		return nil, 0, nil
	}
	if err != nil {
		fmt.Fprintln(a.stderr, a.p.T("instance.no_dir", "Detail", err.Error()))
		return nil, 0, nil
	}
	p, rep, err := instance.Start(dir, req, instanceWait)
	if rep != nil {
		return nil, rep.PID, nil
	}
	return p, 0, err
}

// guiBridge is the bridge's socket for the window opened from the menu:
// nil when the policy lists no web origin (the app says why), or a
// *bridge.BusyError.
func (a *app) guiBridge() (net.Listener, *bridge.BusyError) {
	p, err := a.policy()
	if err != nil || len(p.WebOrigins) == 0 {
		return nil, nil
	}
	l, err := bridge.Listen(p)
	var busy *bridge.BusyError
	if errors.As(err, &busy) {
		return nil, busy
	}
	return l, nil
}

// activateBridge hands req to the bridge a service manager starts on the
// socket that holds addr, once a connection has started it: the
// primary's process id, or 0 when none answered.
func activateBridge(addr string, req instance.Request) int {
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		c.Close()
	}
	dir, err := instance.Dir()
	if err != nil {
		return 0
	}
	rep, err := instance.Wait(dir, req, activationWait)
	if err != nil {
		return 0
	}
	return rep.PID
}

// absFiles are files as the primary, in another folder, finds them.
func absFiles(files []string) []string {
	out := make([]string, 0, len(files))
	for _, f := range files {
		if abs, err := filepath.Abs(f); err == nil {
			f = abs
		}
		out = append(out, f)
	}
	return out
}
