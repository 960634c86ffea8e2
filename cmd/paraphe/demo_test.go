package main

import (
	"errors"
	"path/filepath"
	"testing"

	desktop "github.com/paraphe/paraphe/app"
	"github.com/paraphe/paraphe/internal/demo"
	"github.com/paraphe/paraphe/internal/i18n"
)

// The desktop app's demo is the same one: running already (from paraphe
// demo, or another window), the app is told ErrDemoBusy.
func TestGUIDemoIsTheSameDemo(t *testing.T) {
	t.Setenv("PARAPHE_HOME", filepath.Join(t.TempDir(), "home"))
	p := i18n.New("en")
	dir, err := demo.Dir()
	if err != nil {
		t.Fatal(err)
	}
	running, err := demo.Start(dir, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = startDemo(p)
	running.Stop()
	if !errors.Is(err, desktop.ErrDemoBusy) {
		t.Fatalf("the app's demo while another runs: %v", err)
	}
	c, err := startDemo(p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if c.Policy().CA.URL != running.URL() {
		t.Fatalf("the app's demo serves on %s, paraphe demo's on %s", c.Policy().CA.URL, running.URL())
	}
}
