package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/internal/testenv"
)

// The command-line journeys are transcripts: testdata/*.txtar, run by
// testscript with the commands of testenv.RunScripts. This test binary is
// paraphe-ca in them (testscript.Main runs main when it is started under
// that name), and paraphe-ca-flood the flood client of queue_test.go.

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"paraphe-ca": main, "paraphe-ca-flood": floodMain})
}

func TestScripts(t *testing.T) {
	testenv.RunScripts(t, testscript.Params{Dir: "testdata"})
}
