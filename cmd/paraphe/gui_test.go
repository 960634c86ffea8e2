package main

import (
	"path/filepath"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// The GUI's journeys are transcripts (testdata/gui.txtar, usage.txtar);
// its start-up time is a benchmark.

// BenchmarkGUIStart measures a cold start of the desktop app: from the
// process starting to its window up and its event loop running (target:
// first frame within 1 s).
func BenchmarkGUIStart(b *testing.B) {
	display := testenv.StartXvfb(b)
	home := b.TempDir()
	env := []string{"DISPLAY=" + display, "PARAPHE_HOME=" + home, "PARAPHE_POLICY=" + filepath.Join(home, "none.json"),
		"PARAPHE_LANG=fr", "LANG=en_US.UTF-8", "PARAPHE_GUI_QUIT_AFTER_START=1"}
	for b.Loop() {
		cmd := paraphe(b, env)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}
