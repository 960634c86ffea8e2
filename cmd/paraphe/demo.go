package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/internal/demo"
	"github.com/paraphe/paraphe/internal/explain"
)

// demoCmd serves the demo certification authority until interrupted: the
// one the desktop app starts, in the same folder, so that the command line
// can be tried (make demo) on a computer no organisation has set up. It
// logs one line per request on standard error and prints the reference
// code last.
func (a *app) demoCmd(args []string) error {
	fs := a.flags("demo")
	if pos, err := cli.Parse(fs, args); err != nil {
		return a.usageErr(err)
	} else if len(pos) != 0 {
		return a.usageErr(errors.New(a.p.T("usage.demo")))
	}
	dir, err := demo.Dir()
	if err != nil {
		return err
	}
	c, err := demo.Start(dir, a.p, slog.New(slog.NewJSONHandler(a.stderr, nil)))
	if errors.Is(err, demo.ErrBusy) {
		return &cli.ExitError{Code: explain.ExitDemoBusy, Message: a.p.T("err.demo_busy"), Hint: a.p.T("hint.demo_busy"), Err: err}
	}
	if err != nil {
		return err
	}
	defer c.Stop()
	h := demo.Holder(a.p)
	fmt.Fprintln(a.stdout, a.p.T("demo.serving", "URL", c.URL(), "Policy", c.PolicyFile()))
	fmt.Fprintln(a.stdout, a.p.T("demo.holder", "Name", h.Name, "Title", h.Title, "Answers", strings.Join(c.Answers(), " · ")))
	fmt.Fprintln(a.stdout, a.p.T("demo.code"))
	fmt.Fprintln(a.stdout, c.Code())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
