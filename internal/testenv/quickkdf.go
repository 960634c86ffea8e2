package testenv

import (
	"flag"
	"os"
	"testing"

	"github.com/paraphe/paraphe/internal/kdfcost"
)

// quickKDFEnv, set to 1, tells a command of the test binary (Command) to
// stretch new secrets at kdfcost's quick values.
const quickKDFEnv = "PARAPHE_TEST_QUICK_KDF"

// QuickKDFInShort makes, under -short (make check), new keychain keys
// cheap to open and the secrets an in-process CA keeps cheap to check
// (kdfcost.Quicken), in this process and in the commands of this test
// binary that scripts and tests start (Command). The journeys seal and open
// keys and check answers many times, and the product's Argon2id was most of
// make check's time; make test keeps the product's costs. It parses the
// flags, so a TestMain calls it before m.Run (Main and
// MainWithSecretService do).
func QuickKDFInShort() {
	if !flag.Parsed() {
		flag.Parse()
	}
	if testing.Short() {
		kdfcost.Quicken()
		os.Setenv(quickKDFEnv, "1")
	}
}

// Command is main as a command of the test binary (testscript.Main's
// map, a test starting os.Executable()): it keeps the quick costs of
// -short.
func Command(main func()) func() {
	return func() {
		if os.Getenv(quickKDFEnv) == "1" {
			kdfcost.Quicken()
		}
		main()
	}
}
