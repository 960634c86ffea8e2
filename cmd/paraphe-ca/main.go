// Command paraphe-ca is Paraphe's reference certification authority: it
// enrols holders, hands out reference codes and issues signing certificates
// to the keys holders generate on their own machines.
package main

import (
	"os"

	"github.com/paraphe/paraphe/internal/i18n"
)

func main() {
	p := i18n.New(i18n.Detect(""))
	os.Exit(run(p, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
