package netcheck

import (
	"os"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.MainWithSecretService(m)) }
