package app

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/desktop"
)

// The file dialogs and the file manager: the desktop's own (package
// desktop: the XDG portal, Windows' and macOS's dialogs), several files at
// once where the user may choose several; fyne's dialog where the desktop
// has none, in the user's language.

// fileFilter is what a dialog shows: a name for the user (a catalogue
// key) and the extensions.
type fileFilter struct {
	name string
	exts []string
}

var (
	pdfFiles  = fileFilter{"app.files.pdf", []string{"pdf"}}
	certFiles = fileFilter{"app.files.certs", []string{"pem", "crt", "cer", "der", "p7b", "p7c"}}
	htmlFiles = fileFilter{"app.files.html", []string{"html"}}
	jsonFiles = fileFilter{"app.files.json", []string{"json"}}
)

// fileDialogs is what the dialogs keep between uses: the folder last
// chosen from, where the next one opens, and the fallback dialog shown
// last (tests drive it).
type fileDialogs struct {
	folder   string
	fallback *dialog.FileDialog
}

// fileRequest is one dialog: its words and what it shows.
type fileRequest struct {
	title, accept string // catalogue keys
	filter        fileFilter
	multiple      bool
}

func (u *UI) desktopDialog(r fileRequest) desktop.Dialog {
	return desktop.Dialog{
		Title:   u.T(r.title),
		Accept:  u.T(r.accept),
		Filters: []desktop.Filter{{Name: u.T(r.filter.name), Extensions: r.filter.exts}},
		Folder:  u.files.folder,
		Parent:  u.nativeWindow(),
	}
}

// chooseFiles asks for files to open, then gives their paths to then (on
// the window's goroutine); nothing when the user cancels.
func (u *UI) chooseFiles(r fileRequest, then func(paths []string)) {
	d := u.desktopDialog(r)
	u.askDesktop(func(ctx context.Context) ([]string, error) { return d.Open(ctx, r.multiple) },
		func(paths []string) {
			if len(paths) > 0 {
				u.files.folder = filepath.Dir(paths[0])
				then(paths)
			}
		},
		func() { u.fallbackOpen(r, then) })
}

// chooseSave asks where to save a file named name, then gives the path
// to then.
func (u *UI) chooseSave(r fileRequest, name string, then func(path string)) {
	d := u.desktopDialog(r)
	u.askDesktop(func(ctx context.Context) ([]string, error) {
		p, err := d.Save(ctx, name)
		if p == "" {
			return nil, err
		}
		return []string{p}, err
	},
		func(paths []string) {
			if len(paths) > 0 {
				u.files.folder = filepath.Dir(paths[0])
				then(paths[0])
			}
		},
		func() { u.fallbackSave(r, name, then) })
}

// askDesktop runs a desktop dialog in the background (it waits for the
// user) and comes back with its answer; where the desktop has no dialog,
// or its dialog failed, fyne's is shown instead. Tests wait on u.tasks.
func (u *UI) askDesktop(ask func(context.Context) ([]string, error), answer func([]string), fallback func()) {
	u.tasks.Add(1)
	go func() {
		defer u.tasks.Done()
		paths, err := ask(u.ctx)
		if errors.Is(err, context.Canceled) {
			return // the app is closing
		}
		u.answer(func() {
			if err != nil {
				fallback()
				return
			}
			answer(paths)
		})
	}()
}

// nativeWindow is the window's handle for the desktop's dialogs: its X11
// window or its HWND; 0 under fyne's test driver, on Wayland and macOS.
func (u *UI) nativeWindow() uintptr {
	var handle uintptr
	if w, ok := u.win.(driver.NativeWindow); ok {
		w.RunNative(func(ctx any) {
			switch c := ctx.(type) {
			case driver.X11WindowContext:
				handle = c.WindowHandle
			case driver.WindowsWindowContext:
				handle = c.HWND
			}
		})
	}
	return handle
}

// fallbackOpen is fyne's open dialog: one file at a time.
func (u *UI) fallbackOpen(r fileRequest, then func(paths []string)) {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		rc.Close()
		u.files.folder = filepath.Dir(rc.URI().Path())
		then([]string{rc.URI().Path()})
	}, u.win)
	u.dressFallback(d, r)
	d.Show()
}

// fallbackSave is fyne's save dialog.
func (u *UI) fallbackSave(r fileRequest, name string, then func(path string)) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil || wc == nil {
			return
		}
		// fyne has created the file; it is written whole in its place.
		wc.Close()
		u.files.folder = filepath.Dir(wc.URI().Path())
		then(wc.URI().Path())
	}, u.win)
	d.SetFileName(name)
	u.dressFallback(d, r)
	d.Show()
}

// dressFallback gives fyne's dialog our words, filter and folder, and a
// size that fits the window.
func (u *UI) dressFallback(d *dialog.FileDialog, r fileRequest) {
	var exts []string
	for _, e := range r.filter.exts {
		exts = append(exts, "."+e, "."+strings.ToUpper(e))
	}
	d.SetFilter(storage.NewExtensionFileFilter(exts))
	d.SetTitleText(u.T(r.title))
	d.SetConfirmText(u.T(r.accept))
	d.SetDismissText(u.T("app.cancel"))
	if u.files.folder != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(u.files.folder)); err == nil {
			d.SetLocation(l)
		}
	}
	if size := u.win.Canvas().Size(); size.Width > 0 {
		d.Resize(fyne.NewSize(size.Width*0.9, size.Height*0.9))
	}
	u.files.fallback = d
}

// saveReport asks where to save a report and writes data there whole
// (atomicfile: never half a file), readable as the command line's are.
func (u *UI) saveReport(name string, filter fileFilter, data []byte, saved func(path string)) {
	u.chooseSave(fileRequest{title: "app.files.save_title", accept: "app.files.save", filter: filter}, name, func(path string) {
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			why := u.T("app.files.why_other", "Err", err.Error())
			if errors.Is(err, fs.ErrPermission) {
				why = u.T("app.files.why_permission")
			}
			u.showMessage(u.T("app.error"), u.T("app.files.save_failed", "File", path, "Why", why), u.T("app.files.save_hint"))
			return
		}
		saved(path)
	})
}

// openFolder shows the folder holding path in the file manager, or says
// where it is when no file manager answers.
func (u *UI) openFolder(path string) {
	parent := u.nativeWindow()
	u.tasks.Add(1)
	go func() {
		defer u.tasks.Done()
		err := desktop.ShowInFolder(u.ctx, path, parent)
		if err == nil || errors.Is(err, context.Canceled) {
			return
		}
		u.answer(func() {
			u.showMessage(u.T("app.error"), u.T("app.files.folder_failed"), u.T("app.files.folder_hint", "Dir", filepath.Dir(path)))
		})
	}()
}

// speakFyne gives fyne's own words (its file dialog's, an entry's menu)
// the user's language, which may not be the system's. fyne picks its
// language from the system's locales among those it has words for; ours
// are given for each it could pick (the system's locale, its language,
// and English, fyne's fallback), so that whichever it picks is ours.
func (u *UI) speakFyne() {
	words := map[string]string{
		"Advanced": u.T("fyne.advanced"), "Cancel": u.T("fyne.cancel"), "Confirm": u.T("fyne.confirm"),
		"Copy": u.T("fyne.copy"), "Create Folder": u.T("fyne.create_folder"), "Cut": u.T("fyne.cut"),
		"Enter filename": u.T("fyne.enter_filename"), "Error": u.T("fyne.error"), "Favourites": u.T("fyne.favourites"),
		"File": u.T("fyne.file"), "Folder": u.T("fyne.folder"), "New Folder": u.T("fyne.new_folder"),
		"No": u.T("fyne.no"), "OK": u.T("fyne.ok"), "Open": u.T("fyne.open"), "Paste": u.T("fyne.paste"),
		"Quit": u.T("fyne.quit"), "Redo": u.T("fyne.redo"), "Save": u.T("fyne.save"),
		"Select all": u.T("fyne.select_all"), "Show Hidden Files": u.T("fyne.show_hidden"), "Undo": u.T("fyne.undo"),
		"Yes": u.T("fyne.yes"), "file.name": u.T("fyne.name"), "file.parent": u.T("fyne.parent"),
		"(Parent)": "(" + u.T("fyne.parent") + ")",
	}
	data, err := json.Marshal(words)
	if err != nil {
		return
	}
	sys := lang.SystemLocale()
	seen := map[string]bool{}
	for _, l := range []string{sys.String(), sys.LanguageString(), strings.SplitN(sys.String(), "-", 2)[0], "en"} {
		if l == "" || seen[l] {
			continue
		}
		seen[l] = true
		lang.AddTranslationsForLocale(data, fyne.Locale(l))
	}
}
