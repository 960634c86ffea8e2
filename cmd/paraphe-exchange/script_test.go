package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/internal/testenv"
)

// The operator's journeys are transcripts: testdata/*.txtar, run by
// testscript with the commands of testenv.RunScripts. This test binary is
// paraphe-exchange in them.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"paraphe-exchange": main})
}

func TestScripts(t *testing.T) {
	testenv.RunScripts(t, testscript.Params{Dir: "testdata"})
}
