// Package desktop asks the computer's own desktop for what a user expects
// to look the same in every program: the dialogs that choose files to open
// and where to save one, and the file manager showing a folder.
//
// On Linux and the BSDs it speaks to the XDG desktop portal on the session
// bus (org.freedesktop.portal.FileChooser and OpenURI), so the dialogs are
// GNOME's, KDE's or whichever the desktop provides, in the desktop's
// language; on Windows they are the common dialogs and Explorer, on macOS
// the standard panels and Finder. Where the desktop has none (no session
// bus, no portal, a portal without a file chooser), the functions return
// ErrUnavailable and the caller shows its own.
package desktop

import (
	"context"
	"errors"
	"strings"
)

// ErrUnavailable means the desktop offers no dialog of its own here: the
// caller falls back to its own.
var ErrUnavailable = errors.New("desktop: no file dialog of the desktop's here")

// ErrNoFileManager means no file manager could show a folder: neither the
// portal nor the system's opener.
var ErrNoFileManager = errors.New("desktop: no file manager to show the folder")

// Filter lets a dialog show only some files.
type Filter struct {
	Name       string   // what the user reads: "PDF documents"
	Extensions []string // without the dot, matched in any case: "pdf"
}

// Dialog describes a file dialog. The zero value is a plain one.
type Dialog struct {
	Title   string   // the window's title
	Accept  string   // the accept button's words ("Add"); the desktop's own when empty
	Filters []Filter // the first is the one in force; none shows every file
	Folder  string   // where it opens; the desktop's choice when empty
	// Parent is the window the dialog belongs to, as the windowing system
	// knows it: an X11 window ID, or a Windows HWND; 0 for none.
	Parent uintptr
}

// Open asks for files to open (several when multiple is set) and returns
// their paths, or none (and no error) when the user cancels. ctx ends the
// dialog where the desktop allows it (the portal, macOS).
func (d Dialog) Open(ctx context.Context, multiple bool) ([]string, error) {
	return openFiles(ctx, d, multiple)
}

// Save asks where to save a file, suggesting name, and returns the path, or
// "" (and no error) when the user cancels. The desktop asks before a file
// is replaced.
func (d Dialog) Save(ctx context.Context, name string) (string, error) {
	return saveFile(ctx, d, name)
}

// ShowInFolder opens the folder holding path in the file manager (with
// the file selected where the file manager can); parent as in Dialog. A
// failure wraps ErrNoFileManager with what each way said.
func ShowInFolder(ctx context.Context, path string, parent uintptr) error {
	return showInFolder(ctx, path, parent)
}

// glob is a case-insensitive shell pattern for files ending in .ext:
// "*.[pP][dD][fF]" (GTK's and Qt's patterns are case-sensitive).
func glob(ext string) string {
	var b strings.Builder
	b.WriteString("*.")
	for _, r := range ext {
		lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
		if lo == up {
			b.WriteRune(r)
			continue
		}
		b.WriteString("[" + lo + up + "]")
	}
	return b.String()
}
