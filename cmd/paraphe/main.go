// Command paraphe is the Paraphe signing suite: activate a signing
// certificate, list certificates, and (in later versions) sign and verify
// PDFs and diagnose the connection to the CA.
package main

import (
	"os"

	// Before fyne initialises: see the package.
	_ "github.com/paraphe/paraphe/internal/clocale"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
