// Command paraphe is the Paraphe signing suite. With no arguments, or
// with PDFs to sign, it opens the desktop application; its subcommands
// activate, renew, list, import and export certificates, look after PINs,
// sign and verify PDFs, keep what verification trusts, diagnose the way to
// the CA and keep the proxy's credentials, serve the demo CA and
// administer the machine policy.
package main

import (
	"os"

	// Before fyne initialises: see the package.
	_ "github.com/paraphe/paraphe/internal/clocale"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
