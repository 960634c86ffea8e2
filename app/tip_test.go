package app

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// A long file name is cut short in the batch, and the pointer resting on
// it shows the whole name, within the window; a name that fits shows no
// tip.
func TestLongNameTip(t *testing.T) {
	u, _ := readyToSign(t)
	u.app.Settings().SetTheme(theme.DefaultTheme())
	delay := tipDelay
	tipDelay = 0 // at once: the timer is not what is tested
	t.Cleanup(func() { tipDelay = delay })
	deed, _ := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	dir := t.TempDir()
	long, short := filepath.Join(dir, longName), filepath.Join(dir, "acte.pdf")
	os.WriteFile(long, deed, 0o644)
	os.WriteFile(short, deed, 0o644)
	s := u.signer
	s.add(long, short)
	u.show(s.content)
	u.win.Resize(smallest)
	c := u.win.Canvas()
	at := func(o fyne.CanvasObject) fyne.Position {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(o).Add(fyne.NewPos(o.Size().Width/2, o.Size().Height/2))
	}
	name := s.files[0].name
	if !name.truncated() || name.Size().Width >= fyne.MeasureText(longName, theme.TextSize(), name.TextStyle).Width {
		t.Fatalf("the long name is not cut short: %v wide", name.Size().Width)
	}
	test.MoveMouse(c, at(name))
	box := s.tips.box
	if !box.Visible() || s.tips.text.Text != longName {
		t.Fatalf("no tip with the whole name (shown %v: %q)", box.Visible(), s.tips.text.Text)
	}
	if end := box.Position().Add(box.Size()); box.Position().X < 0 || end.X > s.tips.layer.Size().Width || end.Y > s.tips.layer.Size().Height {
		t.Fatalf("the tip lies outside the screen: %v + %v in %v", box.Position(), box.Size(), s.tips.layer.Size())
	}
	test.MoveMouse(c, at(s.files[1].name))
	if box.Visible() {
		t.Fatal("a name that fits shows a tip, or the tip stays when the pointer leaves")
	}
}
