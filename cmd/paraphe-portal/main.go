// Command paraphe-portal is Paraphe's reference relying party: a supplier
// portal whose users register their certificates, and sign in with them,
// through the signing bridge of Paraphe on their computers.
package main

import (
	"os"

	"github.com/paraphe/paraphe/internal/i18n"
)

func main() {
	p := i18n.New(i18n.Detect(""))
	os.Exit(run(p, os.Args[1:], os.Stdout, os.Stderr))
}
