package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/paraphe/paraphe/bridge"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/instance"
	"github.com/paraphe/paraphe/pkcs"
)

// bridgeCmd serves the signing bridge until interrupted, each request put
// to the holder on this terminal (or refused without one). It logs one
// line per request on standard error; the line saying where it listens
// goes to standard output.
func (a *app) bridgeCmd(args []string) error {
	fs := a.flags("bridge")
	inDesktop := fs.Bool("desktop", false, a.p.T("flag.bridge_desktop"))
	if pos, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	} else if len(pos) != 0 {
		return a.usageErr(errors.New(a.p.T("usage.bridge")))
	}
	p, err := a.policy()
	if err != nil {
		return err
	}
	if len(p.WebOrigins) == 0 {
		return &cli.ExitError{Code: explain.ExitBridgeNoOrigins, Message: a.p.T("err.bridge_no_origins"), Hint: a.p.T("hint.bridge_no_origins")}
	}
	if *inDesktop {
		return a.desktopBridgeCmd(p)
	}
	l, err := bridgeListener(p.BridgeAddr())
	if err != nil {
		return a.bridgeBusy(p.BridgeAddr(), err)
	}
	s := &bridge.Server{
		Policy:  p,
		Consent: &terminalConsent{p: a.p, term: a.term, out: a.stderr, interactive: a.term.IsTerminal()},
		Version: paraphVersion(),
		Log:     slog.New(slog.NewTextHandler(a.stderr, nil)),
		Now:     a.now,
	}
	fmt.Fprintln(a.stdout, a.p.T("bridge.listening", "URL", "http://"+l.Addr().String(), "Origins", strings.Join(p.WebOrigins, ", ")))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return s.Serve(ctx, l)
}

// desktopBridgeCmd is paraphe bridge --desktop: the user's primary
// application serving the bridge, its window hidden; when Paraphe runs
// already for this user (the window opened from the menu, another start
// at login), that one serves the bridge, and this start ends with status
// 0.
func (a *app) desktopBridgeCmd(p *config.Policy) error {
	if msg := a.displayProblem(); msg != "" {
		return &cli.ExitError{Code: explain.ExitError, Message: msg}
	}
	prim, handed, err := a.startInstance(instance.Request{})
	if err != nil {
		return err
	}
	if handed != 0 {
		fmt.Fprintln(a.stdout, a.p.T("instance.running", "PID", handed))
		return nil
	}
	if prim != nil {
		defer prim.Close()
	}
	l, err := bridgeListener(p.BridgeAddr())
	if err != nil {
		return a.bridgeBusy(p.BridgeAddr(), err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	fmt.Fprintln(a.stdout, a.p.T("bridge.listening_desktop", "URL", "http://"+l.Addr().String(), "Origins", strings.Join(p.WebOrigins, ", ")))
	return a.desktopBridge(l, prim, sig)
}

// bridgeBusy says why the bridge cannot listen on addr: the port taken,
// by another user of this computer when the system says so.
func (a *app) bridgeBusy(addr string, err error) error {
	busy := bridge.Busy(addr, err)
	if busy.OtherUser() {
		name := strconv.Itoa(busy.UID)
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		return &cli.ExitError{Code: explain.ExitBridgeBusy, Message: a.p.T("err.bridge_other_user", "Addr", addr, "User", name),
			Hint: a.p.T("hint.bridge_other_user"), Err: busy}
	}
	return &cli.ExitError{Code: explain.ExitBridgeBusy, Message: a.p.T("err.bridge_busy", "Addr", addr), Hint: a.p.T("hint.bridge_busy"), Err: busy}
}

// bridgeListener is the socket a service manager handed over (socket
// activation: LISTEN_FDS=1, descriptor 3: a systemd user socket, or a
// test), or a new one on addr.
func bridgeListener(addr string) (net.Listener, error) {
	pid := os.Getenv("LISTEN_PID")
	if os.Getenv("LISTEN_FDS") == "1" && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		f := os.NewFile(3, "bridge")
		defer f.Close()
		return net.FileListener(f)
	}
	return net.Listen("tcp", addr)
}

// terminalConsent asks the holder on the terminal: the site, what it
// asks, the certificates to choose from, then the PIN, hidden. Enter alone
// refuses. Off a terminal it asks no one.
type terminalConsent struct {
	p           *i18n.Printer
	term        *cli.Terminal
	out         io.Writer
	interactive bool
}

func (c *terminalConsent) Consent(ctx context.Context, r bridge.Request) (bridge.Answer, error) {
	if !c.interactive {
		fmt.Fprintln(c.out, c.p.T("bridge.not_interactive", "Origin", r.Origin))
		return bridge.Answer{}, bridge.ErrNoConsent
	}
	fmt.Fprintln(c.out)
	fmt.Fprintln(c.out, c.p.T("bridge.ask."+string(r.Action), "Origin", r.Origin, "Document", r.Document))
	for i, cert := range r.Certs {
		h, x := pkcs.HolderOf(cert.Certificate()), cert.Certificate()
		fmt.Fprintln(c.out, c.p.T("bridge.cert", "N", i+1, "Name", h.Name, "Title", h.Title, "Member", h.MemberNumber,
			"Issuer", x.Issuer.CommonName, "Until", c.p.Date(x.NotAfter), "Store", c.p.T("store."+cert.Store.Name())))
	}
	chosen := 0
	if r.Action.NeedsKey() && len(r.Certs) > 1 {
		line, err := c.term.Line(c.p.T("bridge.choose", "N", len(r.Certs)))
		n, convErr := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || convErr != nil || n < 1 || n > len(r.Certs) {
			return c.refuse(ctx)
		}
		chosen = n - 1
	} else {
		line, err := c.term.Line(c.p.T("bridge.allow"))
		yes := strings.Split(c.p.T("bridge.yes_words"), ",")
		if err != nil || !slices.Contains(yes, strings.ToLower(strings.TrimSpace(line))) {
			return c.refuse(ctx)
		}
	}
	if !r.Action.NeedsKey() {
		return bridge.Answer{Allow: ctx.Err() == nil}, nil
	}
	cert := r.Certs[chosen]
	pin, err := c.term.Secret(c.p.T("bridge.pin", "Name", pkcs.HolderOf(cert.Certificate()).Name))
	if err != nil || len(pin) == 0 {
		clear(pin)
		return c.refuse(ctx)
	}
	return bridge.Answer{Allow: ctx.Err() == nil, Cert: cert.ID, PIN: pin}, nil
}

func (c *terminalConsent) refuse(ctx context.Context) (bridge.Answer, error) {
	if ctx.Err() != nil {
		fmt.Fprintln(c.out, c.p.T("bridge.withdrawn"))
	} else {
		fmt.Fprintln(c.out, c.p.T("bridge.refused"))
	}
	return bridge.Answer{}, nil
}
