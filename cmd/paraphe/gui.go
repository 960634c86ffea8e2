package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	desktop "github.com/paraphe/paraphe/app"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/demo"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/instance"
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
	req := instance.Request{Show: true, Files: absFiles(files)}
	prim, l, handed := a.guiInstance(req)
	if handed != 0 {
		fmt.Fprintln(a.stdout, a.p.T("instance.handed", "PID", handed))
		return explain.ExitOK
	}
	if prim != nil {
		defer prim.Close()
	}
	fa := fyneapp.NewWithID("org.paraphe.Paraphe")
	if os.Getenv("PARAPHE_GUI_QUIT_AFTER_START") != "" {
		// For the start-up benchmark and smoke test: quit once the window
		// is up and the event loop has turned once.
		fa.Lifecycle().SetOnStarted(func() { go fyne.Do(fa.Quit) })
	}
	u := desktop.New(fa, desktop.Options{Version: paraphVersion(), Files: files, StartDemo: startDemo, RefreshTrustedLists: true,
		Bridge: &desktop.BridgeOptions{Listener: l}})
	a.serveInstance(prim, u)
	u.ShowAndRun()
	return explain.ExitOK
}

// guiInstance makes the window opened from the menu the user's primary,
// with the bridge's socket (nil: the app listens itself, or says why it
// cannot), or hands req to the primary that runs (handed, its process
// id): the bridge started at login, or the one this user's service
// manager starts on the port it holds.
func (a *app) guiInstance(req instance.Request) (prim *instance.Primary, l net.Listener, handed int) {
	prim, handed, err := a.startInstance(req)
	if handed != 0 || err != nil {
		if err != nil {
			fmt.Fprintln(a.stderr, a.p.T("instance.no_dir", "Detail", err.Error()))
		}
		return nil, nil, handed
	}
	l, busy := a.guiBridge()
	if busy == nil || !busy.Mine() || prim == nil {
		return prim, l, 0
	}
	prim.Close()
	if pid := activateBridge(busy.Addr, req); pid != 0 {
		return nil, nil, pid
	}
	// Nothing of Paraphe's answered on that socket: a paraphe bridge in
	// a terminal, say. The window runs without the bridge and says why.
	prim, handed, _ = a.startInstance(req)
	return prim, nil, handed
}

// serveInstance has the primary bring u's window forward, with the files
// to sign, when a later start asks; each request is a line of the log.
func (a *app) serveInstance(prim *instance.Primary, u *desktop.UI) {
	if prim == nil {
		return
	}
	log := slog.New(slog.NewJSONHandler(a.stderr, nil))
	go prim.Serve(func(r instance.Request) {
		log.Info("another start", "show", r.Show, "files", len(r.Files))
		if r.Show {
			u.Raise(r.Files)
		}
	})
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
//
// sig receives the session's end, caught from before the bridge said it
// listens (a service manager may stop it at once).
func (a *app) desktopBridge(l net.Listener, prim *instance.Primary, sig <-chan os.Signal) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &cli.ExitError{Code: explain.ExitError, Message: a.p.T("gui.display_unreachable", "Display", os.Getenv("DISPLAY")), Err: fmt.Errorf("%v", r)}
		}
	}()
	// The session's end (SIGTERM) quits the application. Fyne's driver
	// catches it too, once its loop runs: both stop the driver, which is
	// done once (the app's Quit, which closes the windows first, raced
	// the driver's to a toolkit already stopped). Caught here from the
	// start, a signal before the loop runs waits for it.
	fa := fyneapp.NewWithID("org.paraphe.Paraphe")
	go func() {
		if _, ok := <-sig; ok {
			fyne.Do(fa.Driver().Quit)
		}
	}()
	u := desktop.New(fa, desktop.Options{Version: paraphVersion(), StartDemo: startDemo, RefreshTrustedLists: true,
		Bridge: &desktop.BridgeOptions{Listener: l}})
	a.serveInstance(prim, u)
	u.RunHidden()
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
