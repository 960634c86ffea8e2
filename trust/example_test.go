package trust_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/paraphe/paraphe/trust"
)

// The user trusts a certificate of their own, lists, and removes it.
func ExampleStore() {
	dir, err := os.MkdirTemp("", "paraphe-trust")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store := trust.NewStore(filepath.Join(dir, "trusted"))

	added, err := store.Add("testdata/example-ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added:", added[0].Subject.CommonName)

	if _, err := store.Add("testdata/example-ca.pem"); errors.Is(err, trust.ErrAlreadyTrusted) {
		fmt.Println("added again: already trusted")
	}

	certs, _ := store.List()
	for _, c := range certs {
		fmt.Println("trusted:", trust.Fingerprint(c)[:16], c.Subject.CommonName)
	}

	removed, err := store.Remove("C5:55:23:D1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("removed:", removed.Subject.CommonName)
	// Output:
	// added: Example Notaries CA
	// added again: already trusted
	// trusted: c55523d1c2875ce7 Example Notaries CA
	// removed: Example Notaries CA
}

// Refreshing the EU trusted lists, then gathering every anchor the policy
// allows.
func ExampleSources() {
	lists := &trust.TrustedLists{
		URL:     trust.LOTL,
		Pins:    trust.OfficialJournalPins(),
		Journal: trust.OfficialJournalURL,
		Cache:   filepath.Join(os.Getenv("HOME"), ".local/share/paraphe/trusted-lists"),
		Client:  &http.Client{Timeout: time.Minute}, // the client built from the policy, with its proxy
	}
	statuses, err := lists.Update(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range statuses {
		var sig *trust.SignatureError
		switch {
		case errors.As(s.Err, &sig):
			fmt.Println(s.Territory, "refused:", sig.Problem)
		case s.Err != nil:
			fmt.Println(s.Territory, "not updated:", s.Err)
		default:
			fmt.Println(s.Territory, "list", s.Sequence, "next update", s.NextUpdate.Format(time.DateOnly))
		}
	}

	sources := trust.Sources{
		Policy:       []string{"/etc/paraphe/trusted.d"},
		User:         trust.NewStore(filepath.Join(os.Getenv("HOME"), ".local/share/paraphe/trusted")),
		TrustedLists: lists,
	}
	anchors, problems := sources.Anchors()
	fmt.Println(len(anchors), "anchors,", len(problems), "problems")
}
