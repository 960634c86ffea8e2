package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
)

// A batch with a damaged file (the demo deed cut in half): before the PIN
// is asked, a dialog names it and what is wrong with it. Left out, it is
// refused with what to do while the sound file is signed; confirmed, it is
// repaired and signed, and its row says what was rebuilt. The inputs never
// change.
func TestSignDamagedFileAsksFirst(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	w := activate(t, u, c.Enroll(t), testenv.Answers)
	if w.key == nil {
		t.Fatalf("activation failed: %+v", w.failed)
	}
	test.Tap(w.primary) // "Sign a document"
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sound, cut := filepath.Join(dir, "sound.pdf"), filepath.Join(dir, "cut.pdf")
	os.WriteFile(sound, deed, 0o644)
	os.WriteFile(cut, deed[:len(deed)/2], 0o644)
	s := u.signer
	s.add(cut, sound)
	s.level.SetSelectedIndex(0) // B-B

	sign := func(repair bool) {
		t.Helper()
		s.repair = nil
		test.Tap(s.signBtn)
		u.tasks.Wait()
		if s.repair == nil {
			t.Fatalf("no question about the damaged file (shown: %q)", u.shown)
		}
		if got := s.repairInfo.Text; !strings.Contains(got, "cut.pdf: its end is missing") || !strings.Contains(got, "only 1 of its 2 pages could be read") ||
			strings.Contains(got, "sound.pdf") {
			t.Fatalf("the damaged files listed: %q", got)
		}
		if repair {
			s.repair.Confirm()
		} else {
			s.repair.Dismiss()
		}
		test.Type(u.pinEntry, testPIN)
		u.pinDialog.Submit()
		u.tasks.Wait()
	}

	sign(false)
	damaged, ok := s.files[0], s.files[1]
	if !ok.ok || damaged.ok || !strings.Contains(damaged.status.Text, "is damaged: it was probably cut short") ||
		!strings.Contains(damaged.status.Text, "Repair and sign") {
		t.Fatalf("left out: sound %q, damaged %q", ok.status.Text, damaged.status.Text)
	}
	if _, err := os.Stat(filepath.Join(dir, "cut-signed.pdf")); err == nil {
		t.Fatal("the damaged file left out was signed")
	}

	s.files = s.files[:1]
	s.redraw()
	sign(true)
	if !damaged.ok || !strings.Contains(damaged.status.Text, "Repaired before signing: its end is missing") {
		t.Fatalf("repaired: %q", damaged.status.Text)
	}
	if _, err := os.Stat(damaged.out); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]byte{sound: deed, cut: deed[:len(deed)/2]} {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Fatalf("%s changed", p)
		}
	}
}
