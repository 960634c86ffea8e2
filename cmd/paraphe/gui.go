package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	desktop "github.com/paraphe/paraphe/app"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/demo"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
)

// gui opens the desktop application, with files ready to sign. Without a display it says how to get
// one, and what works without.
func (a *app) gui(files []string) (code int) {
	if msg := a.displayProblem(); msg != "" {
		fmt.Fprintln(a.stderr, msg)
		if os.Getenv("DISPLAY") == "" {
			fmt.Fprint(a.stdout, a.p.T("usage"))
		}
		return explain.ExitError
	}
	// What the check above cannot see (an X server that refuses us, say)
	// reaches the toolkit, which panics: say it in words all the same.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintln(a.stderr, a.p.T("gui.display_unreachable", "Display", os.Getenv("DISPLAY")))
			fmt.Fprintf(a.stderr, "(%v)\n", r)
			code = explain.ExitError
		}
	}()
	fa := fyneapp.NewWithID("org.paraphe.Paraphe")
	if os.Getenv("PARAPHE_GUI_QUIT_AFTER_START") != "" {
		// For the start-up benchmark and smoke test: quit once the window
		// is up and the event loop has turned once.
		fa.Lifecycle().SetOnStarted(func() { go fyne.Do(fa.Quit) })
	}
	desktop.New(fa, desktop.Options{Version: paraphVersion(), Files: files, StartDemo: startDemo, RefreshTrustedLists: true,
		Bridge: &desktop.BridgeOptions{}}).ShowAndRun()
	return explain.ExitOK
}

// displayProblem says why no window can open here, "" when one can.
func (a *app) displayProblem() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	// The toolkit is built for X11 (under Wayland, XWayland provides
	// DISPLAY).
	d := os.Getenv("DISPLAY")
	if d == "" {
		return a.p.T("gui.no_display")
	}
	// The toolkit panics on a display it cannot open (a DISPLAY left over
	// from an SSH session, say): say so instead.
	if !xReachable(d) {
		return a.p.T("gui.display_unreachable", "Display", d)
	}
	return ""
}

// desktopBridge is "paraphe bridge --desktop", what the packages start at
// login: the desktop application serving the bridge on l, its window
// hidden until a page asks something, hidden again when closed. It runs
// until the session ends (SIGTERM) or its menu's Quit.
func (a *app) desktopBridge(l net.Listener) (err error) {
	if msg := a.displayProblem(); msg != "" {
		return &cli.ExitError{Code: explain.ExitError, Message: msg}
	}
	defer func() {
		if r := recover(); r != nil {
			err = &cli.ExitError{Code: explain.ExitError, Message: a.p.T("gui.display_unreachable", "Display", os.Getenv("DISPLAY")), Err: fmt.Errorf("%v", r)}
		}
	}()
	fa := fyneapp.NewWithID("org.paraphe.Paraphe")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		<-sig
		fyne.Do(fa.Quit)
	}()
	desktop.New(fa, desktop.Options{Version: paraphVersion(), StartDemo: startDemo, RefreshTrustedLists: true,
		Bridge: &desktop.BridgeOptions{Listener: l}}).RunHidden()
	return nil
}

// startDemo starts the demo CA for the desktop app: internal/demo's, in
// the user's Paraphe folder, the one "paraphe demo" serves.
func startDemo(p *i18n.Printer) (desktop.DemoCA, error) {
	dir, err := demo.Dir()
	if err != nil {
		return nil, err
	}
	c, err := demo.Start(dir, p, nil)
	if errors.Is(err, demo.ErrBusy) {
		return nil, fmt.Errorf("%w: %w", desktop.ErrDemoBusy, err)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// xReachable tells whether the X server of display (":0", "host:1.0",
// "unix:0") accepts a connection.
func xReachable(display string) bool {
	host, rest, ok := strings.Cut(display, ":")
	if !ok {
		return false
	}
	n, _, _ := strings.Cut(rest, ".")
	num, err := strconv.Atoi(n)
	if err != nil {
		return false
	}
	var conn net.Conn
	if host == "" || host == "unix" {
		conn, err = net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", num), 2*time.Second)
		if err != nil { // some servers also listen on the abstract socket
			conn, err = net.DialTimeout("unix", fmt.Sprintf("@/tmp/.X11-unix/X%d", num), 2*time.Second)
		}
	} else {
		conn, err = net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(6000+num)), 2*time.Second)
	}
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
