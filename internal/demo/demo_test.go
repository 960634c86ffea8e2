package demo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/protocol"
)

// start starts the demo CA in dir and stops it when the test ends.
func start(t *testing.T, dir, lang string) *CA {
	t.Helper()
	c, err := Start(dir, i18n.New(lang), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// A client that reads the policy the demo wrote finds the demo holder's
// questions in the language asked for, and her answers open the way.
func TestDemoServesItsHolder(t *testing.T) {
	t.Setenv("PARAPHE_HOME", filepath.Join(t.TempDir(), "home"))
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	c := start(t, dir, "fr")
	p, err := config.ReadPolicy(c.PolicyFile())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(c.PolicyFile()) != dir || p.CA.URL != c.URL() || c.Policy().CA.URL != c.URL() || !slices.Equal(p.CA.Anchors, c.Policy().CA.Anchors) {
		t.Fatalf("policy file %s says %+v, the demo %+v", c.PolicyFile(), p.CA, c.Policy().CA)
	}
	ref, err := protocol.ParseRefCode(c.Code())
	if err != nil {
		t.Fatalf("reference code %q: %v", c.Code(), err)
	}
	client, err := activation.New(p, netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, err := client.Questions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	fr := i18n.New("fr")
	want := []string{fr.T("demo.q1"), fr.T("demo.q2"), fr.T("demo.q3")}
	if q.State != protocol.StatePending || !slices.Equal(q.Questions, want) || want[0] != "Ville de naissance\u202f?" {
		t.Fatalf("questions %+v, want %q", q, want)
	}
	if _, err := client.Answer(ctx, ref, c.Answers()); err != nil {
		t.Fatalf("the answers shown are refused: %v", err)
	}
}

// Started again, the demo CA is the same one on the same ports (what it
// issued stays trusted), with a new code for its holder; while it runs,
// another start is ErrBusy and leaves its folder alone.
func TestDemoKeepsItsFolderAndPorts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo-ca")
	first, err := Start(dir, i18n.New("en"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Start(dir, i18n.New("en"), nil); !errors.Is(err, ErrBusy) {
		first.Stop()
		t.Fatalf("a second demo while the first runs: %v", err)
	}
	client, err := activation.New(first.Policy(), netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Questions(context.Background(), first.Code()); err != nil {
		first.Stop()
		t.Fatalf("the running demo after a refused second one: %v", err)
	}
	first.Stop()
	again := start(t, dir, "en")
	if again.URL() != first.URL() || !slices.Equal(again.Policy().CA.Anchors, first.Policy().CA.Anchors) {
		t.Fatalf("restarted as %s %v, was %s %v", again.URL(), again.Policy().CA.Anchors, first.URL(), first.Policy().CA.Anchors)
	}
	if again.Code() == first.Code() {
		t.Fatal("the same reference code twice")
	}
}

// A folder that holds no CA (left half-made, say) is replaced by a new demo.
func TestDemoReplacesABrokenFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo-ca")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, "config.json")
	if err := os.WriteFile(stray, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := start(t, dir, "en")
	if _, err := config.ReadPolicy(c.PolicyFile()); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(stray); string(data) == "{not json" {
		t.Fatal("the broken folder was kept")
	}
}
