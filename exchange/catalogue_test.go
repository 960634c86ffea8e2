package exchange

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/paraphe/paraphe/internal/i18n"
)

// Every message the pages name is in the catalogue (i18n's test scans Go
// files only): the templates' literal keys, and the families built from
// the lists.
func TestPagesKeysExist(t *testing.T) {
	cat, err := i18n.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	var used []string
	names, _ := fs.Glob(files, "templates/*.html")
	for _, n := range names {
		data, _ := files.ReadFile(n)
		for _, m := range keyRE.FindAllStringSubmatch(string(data), -1) {
			used = append(used, m[1])
		}
	}
	if len(used) < 80 {
		t.Fatalf("found only %d keys in the templates: the scan is broken", len(used))
	}
	for _, s := range Statuses {
		used = append(used, "exchange.status."+s)
	}
	for _, r := range Rules {
		used = append(used, "exchange.rule."+string(r))
	}
	for _, e := range []string{"sent", "opened", "viewed", "downloaded", "withdrawn", "expired"} {
		used = append(used, "exchange.event."+e)
	}
	for _, p := range []string{"email", "name", "kind", "title", "note", "days", "recipient", "self", "recipient_unknown", "body", "not_encrypted", "wrong_recipient", "no_certificate"} {
		used = append(used, "exchange.input."+p)
	}
	for _, p := range []string{"unreadable", "too_many", "key", "usage", "expired", "email", "revoked", "revocation_unknown"} {
		used = append(used, "exchange.cert."+p)
	}
	for _, l := range []string{"firm", "client"} {
		used = append(used, "exchange.kind."+l)
	}
	for _, l := range []string{"en", "fr", "it"} {
		used = append(used, "exchange.lang."+l)
	}
	for _, k := range used {
		if _, ok := cat["en"][k]; !ok {
			t.Errorf("%s is used but not in the catalogue", k)
		}
	}
}
