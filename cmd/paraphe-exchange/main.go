// Command paraphe-exchange is Paraphe's secure parcels server: its
// operator creates it, adds the firm's and the clients' accounts, and
// serves the web pages recipients collect their documents on.
package main

import (
	"os"

	"github.com/paraphe/paraphe/internal/i18n"
)

func main() {
	p := i18n.New(i18n.Detect(""))
	os.Exit(run(p, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
