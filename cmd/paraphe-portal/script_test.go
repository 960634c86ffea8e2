package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/internal/testenv"
)

// The command-line journeys are transcripts: testdata/*.txtar, run by
// testscript with the commands of testenv.RunScripts. This test binary is
// paraphe-portal in them. The portal's pages are met in a browser in
// app/portal_test.go.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"paraphe-portal": main})
}

func TestScripts(t *testing.T) {
	testenv.RunScripts(t, testscript.Params{Dir: "testdata"})
}
