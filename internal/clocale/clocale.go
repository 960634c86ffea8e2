// Package clocale, imported for its side effect before the desktop
// toolkit, keeps fyne from logging "Error parsing user locale C" on every
// command when the locale is C.UTF-8 (common in scripts, containers and
// root shells): fyne reads the locale while it initialises and cannot parse
// "C". C means no language, which is English to both fyne and the suite,
// so LANGUAGE (which only the locale library's language lookup reads when
// the locale is not plain C) says so.
package clocale

import (
	"os"
	"strings"
)

func init() {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		l := os.Getenv(v)
		if l == "" {
			continue
		}
		if (strings.HasPrefix(l, "C.") || strings.HasPrefix(l, "POSIX.")) && os.Getenv("LANGUAGE") == "" {
			os.Setenv("LANGUAGE", "en")
		}
		return
	}
}
