package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/godbus/dbus/v5"

	"github.com/paraphe/paraphe/internal/testenv"
)

// useBus points the desktop's dialogs at the session bus addr for this
// test. go-keyring keeps godbus's shared connection to the session bus:
// it is made first, to the Secret Service's bus, so that it stays there.
func useBus(t *testing.T, addr string) {
	t.Helper()
	if _, err := dbus.SessionBus(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
}

// "Add PDFs…" opens the desktop's own file chooser when a portal answers
// on the session bus (GTK's, from Debian's xdg-desktop-portal-gtk, on a
// virtual display), and several PDFs chosen at once are all added.
func TestAddPDFsThroughPortal(t *testing.T) {
	p := testenv.StartDesktopPortal(t)
	u := newUI(t, "")
	useBus(t, p.Address)
	names := []string{"2026-12-01 Acte de vente Dupont+Martin.pdf", "annexe 1.PDF", "procuration é.pdf"}
	for _, n := range append(slices.Clone(names), "notes.txt") {
		if err := os.WriteFile(filepath.Join(p.Home, n), []byte("%PDF-1.4\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, n := range names {
		want = append(want, filepath.Join(p.Home, n))
	}
	slices.Sort(want)
	for try := 1; ; try++ {
		test.Tap(findButton(t, u.signer.content, u.T("app.sign.add")))
		p.ChooseAll(t, u.T("app.files.add_title")) // the portal's HOME holds the files
		u.tasks.Wait()
		var got []string
		for _, f := range u.signer.files {
			got = append(got, f.in)
		}
		slices.Sort(got)
		if len(got) == 1 && slices.Contains(want, got[0]) && try < 3 {
			t.Logf("GTK listed the folder after ctrl+a: its first row alone was chosen; again")
			u.signer.clear()
			continue
		}
		if !slices.Equal(got, want) {
			t.Fatalf("added %q, want %q", got, want)
		}
		break
	}
	if u.files.fallback != nil {
		t.Fatal("fyne's dialog was shown too")
	}
}

// Without a portal, fyne's dialog is the fallback, in the user's
// language even when the system speaks another (fyne's own words
// included), and the file chosen in it is added.
func TestAddPDFsFallback(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("LANGUAGE", "de")
	u := newUI(t, "")
	u.setLanguage("fr")
	useBus(t, "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	dir := t.TempDir()
	deed := filepath.Join(dir, "acte.pdf")
	if err := os.WriteFile(deed, []byte("%PDF-1.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)
	u.files.folder = dir

	test.Tap(findButton(t, u.signer.content, u.T("app.sign.add")))
	u.tasks.Wait()
	d := u.files.fallback
	if d == nil {
		t.Fatalf("no dialog shown (shown: %q)", u.shown)
	}
	for fyneWord, ours := range map[string]string{"Show Hidden Files": "Afficher les fichiers cachés", "New Folder": "Nouveau dossier", "Cancel": "Annuler", "Paste": "Coller"} {
		if got := lang.L(fyneWord); got != ours {
			t.Errorf("fyne says %q as %q, want %q", fyneWord, got, ours)
		}
	}
	overlay := u.win.Canvas().Overlays().Top()
	all := allTexts(overlay)
	for _, want := range []string{"Ajouter des PDF à signer", "[Ajouter]", "[Annuler]", "(Dossier parent)"} {
		if !strings.Contains(all, "\n"+want+"\n") {
			t.Errorf("the dialog lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "notes") {
		t.Errorf("the dialog shows notes.txt:\n%s", all)
	}
	tapText(t, overlay, "acte")
	test.Tap(findButton(t, overlay, "Ajouter"))
	if len(u.signer.files) != 1 || u.signer.files[0].in != deed {
		t.Fatalf("added %v, want %s", u.signer.files, deed)
	}
}

// "Show in folder" with no portal and no xdg-open says so in words, with
// the folder to open by hand.
func TestShowInFolderFails(t *testing.T) {
	u := newUI(t, "")
	u.setLanguage("it")
	useBus(t, "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	t.Setenv("PATH", t.TempDir())
	signed := filepath.Join(t.TempDir(), "atto-signed.pdf")
	os.WriteFile(signed, []byte("%PDF-1.4\n"), 0o644)
	u.openFolder(signed)
	u.tasks.Wait()
	if u.shown != "Impossibile mostrare la cartella: nessun gestore di file ha risposto." {
		t.Fatalf("shown %q", u.shown)
	}
	all := allTexts(u.win.Canvas().Overlays().Top())
	if !strings.Contains(all, "Apritela voi stessi: "+filepath.Dir(signed)) || strings.Contains(all, "exec:") {
		t.Fatalf("the message:\n%s", all)
	}
}

// allTexts is texts with check boxes and entries' placeholders, one a
// line, the whole between newlines.
func allTexts(o fyne.CanvasObject) string {
	var b strings.Builder
	b.WriteString("\n" + texts(o))
	walk(o, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Check:
			b.WriteString(w.Text + "\n")
		case *widget.Entry:
			b.WriteString(w.PlaceHolder + "\n")
		}
	})
	return b.String()
}

// tapText taps the innermost tappable thing showing text.
func tapText(t *testing.T, o fyne.CanvasObject, text string) {
	t.Helper()
	var found fyne.Tappable
	walk(o, func(o fyne.CanvasObject) {
		tp, ok := o.(fyne.Tappable)
		if !ok {
			return
		}
		walk(o, func(in fyne.CanvasObject) {
			if l, ok := in.(*widget.Label); ok && (l.Text == text) {
				found = tp
			}
		})
	})
	if found == nil {
		t.Fatalf("nothing shows %q in:\n%s", text, allTexts(o))
	}
	test.Tap(found)
}
