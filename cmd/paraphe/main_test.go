package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/internal/testenv"
)

// The command-line journeys are transcripts: testdata/*.txtar (see
// testdata/README.md), run by testscript with the commands of
// testenv.RunScripts and eutl (eutl_test.go). This test binary is paraphe
// in them (testscript.Main runs main when it is started under that name);
// paraphe-ca, the CA they activate against, and paraphe-exchange, the
// secure folders' server they send to, are built by TestMain.

// caBin is the paraphe-ca binary TestMain builds (paraphe-exchange beside it).
var caBin string

func TestMain(m *testing.M) {
	testscript.Main(withCA{m}, map[string]func(){"paraphe": testenv.Command(main)})
}

// withCA runs the tests with paraphe-ca and paraphe-exchange built and a
// Secret Service of their own.
type withCA struct{ m *testing.M }

func (w withCA) Run() int {
	dir, err := os.MkdirTemp("", "paraphe-ca-bin-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "github.com/paraphe/paraphe/cmd/paraphe-ca", "github.com/paraphe/paraphe/cmd/paraphe-exchange")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	caBin = filepath.Join(dir, "paraphe-ca")
	return testenv.MainWithSecretService(w.m)
}

func TestScripts(t *testing.T) {
	testenv.RunScripts(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(caBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Values[euKey{}] = &euHolder{}
			env.Values[bridgeKey{}] = &bridgeHolder{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"eutl": cmdEUTL, "bridge": cmdBridge, "freeport": cmdFreePort},
	})
}
