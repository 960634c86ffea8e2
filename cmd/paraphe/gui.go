package main

import (
	"fmt"
	"os"
	"runtime"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	desktop "github.com/paraphe/paraphe/app"
	"github.com/paraphe/paraphe/internal/explain"
)

// gui opens the desktop application, with files ready to sign. Without a display it says how to get
// one, and what works without.
func (a *app) gui(files []string) int {
	if runtime.GOOS == "linux" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		fmt.Fprintln(a.stderr, a.p.T("gui.no_display"))
		fmt.Fprint(a.stdout, a.p.T("usage"))
		return explain.ExitError
	}
	fa := fyneapp.NewWithID("org.paraphe.Paraphe")
	if os.Getenv("PARAPHE_GUI_QUIT_AFTER_START") != "" {
		// For the start-up benchmark and smoke test: quit once the window
		// is up and the event loop has turned once.
		fa.Lifecycle().SetOnStarted(func() { go fyne.Do(fa.Quit) })
	}
	desktop.New(fa, desktop.Options{Version: paraphVersion(), Files: files}).ShowAndRun()
	return explain.ExitOK
}
