package trust

import (
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/paraphe/paraphe/trust/tltest"
)

const testJournal = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=uriserv:OJ.C_.2019.276.01.0001.01.ENG"

// pivotEU is a scheme whose LOTL moved twice since the notice whose pin
// is old: old → mid (pivot 100, issued then) → current (pivot 200). A pivot listed
// after the notice (50) is older than it and must not be followed.
func pivotEU(t *testing.T, old *tltest.Signer, issued time.Time) (*tltest.EU, *tltest.Signer) {
	t.Helper()
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}}))
	mid, current := tltest.NewSigner(t, "mid LOTL signer"), eu.LOTLSigner
	pivot := func(n int, by, next *tltest.Signer, issued time.Time) string {
		p := &tltest.List{Territory: "EU", Sequence: n, Issued: issued, Pointers: []tltest.Pointer{
			{Territory: "EU", Location: eu.LOTLURL(), Signers: []*x509.Certificate{next.Cert}, LOTL: true},
		}}
		path := "/eu-lotl-pivot-" + itoa(n) + ".xml"
		eu.Server.Put(path, by.Sign(t, p.XML()))
		return eu.Server.URL(path)
	}
	p100 := pivot(100, old, mid, issued)
	p200 := pivot(200, mid, current, time.Now().Add(-10*time.Minute).UTC().Truncate(time.Second))
	p50 := pivot(50, tltest.NewSigner(t, "ancient"), old, issued.AddDate(-1, 0, 0))
	eu.LOTL.SchemeURIs = []string{p200, p100, testJournal, p50}
	eu.PublishLOTL(t)
	return eu, mid
}

func recently() time.Time { return time.Now().Add(-30 * time.Minute).UTC().Truncate(time.Second) }

func itoa(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

func TestPivots(t *testing.T) {
	old := tltest.NewRSASigner(t, "pinned in the Official Journal")
	eu, _ := pivotEU(t, old, recently())
	tl := &TrustedLists{URL: eu.LOTLURL(), Pins: []*x509.Certificate{old.Cert}, Cache: t.TempDir(), Client: eu.Client()}

	// Without the notice, the pins alone: the LOTL is signed by another.
	st := update(t, tl)
	se := wantProblem(t, st["EU"].Err, SigUntrustedSigner)
	if !se.Signer.Equal(eu.LOTLSigner.Cert) {
		t.Error("the LOTL's signer not named")
	}

	tl.Journal = testJournal
	st = update(t, tl)
	if st["EU"].Err != nil || st["FR"].Err != nil {
		t.Fatalf("through the pivots: %+v", st)
	}
	if eu.Server.Hits("/eu-lotl-pivot-050.xml") != 0 {
		t.Error("a pivot older than the notice was fetched")
	}
	// Offline, from the cache, pivots included.
	eu.Server.Close()
	anchors, statuses := tl.Anchors()
	if len(anchors) != 1 || statuses[0].Err != nil {
		t.Fatalf("from the cache: %d anchors, %v", len(anchors), statuses[0].Err)
	}
}

// A pin that has expired since it signed a pivot still starts the chain:
// the pivot is judged when it was issued.
func TestPivotSignedByExpiredPin(t *testing.T) {
	old := tltest.NewExpiredSigner(t, "expired pin")
	eu, _ := pivotEU(t, old, time.Now().AddDate(0, 0, -2).UTC().Truncate(time.Second))
	tl := &TrustedLists{URL: eu.LOTLURL(), Pins: []*x509.Certificate{old.Cert}, Journal: testJournal, Cache: t.TempDir(), Client: eu.Client()}
	if st := update(t, tl); st["EU"].Err != nil {
		t.Fatal(st["EU"].Err)
	}
}

func TestPivotRefused(t *testing.T) {
	old := tltest.NewSigner(t, "pin")
	eu, mid := pivotEU(t, old, recently())
	tl := &TrustedLists{URL: eu.LOTLURL(), Pins: []*x509.Certificate{old.Cert}, Journal: testJournal, Cache: t.TempDir(), Client: eu.Client()}

	// The first pivot signed by someone else than the pin.
	good := eu.Server.Get("/eu-lotl-pivot-100.xml")
	forged := &tltest.List{Territory: "EU", Sequence: 100, Issued: recently(), Pointers: []tltest.Pointer{{Territory: "EU", Location: eu.LOTLURL(), Signers: []*x509.Certificate{mid.Cert}, LOTL: true}}}
	eu.Server.Put("/eu-lotl-pivot-100.xml", tltest.NewSigner(t, "forger").Sign(t, forged.XML()))
	statuses, err := tl.Update(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var pe *PivotError
	if !errors.As(statuses[0].Err, &pe) || pe.URL != eu.Server.URL("/eu-lotl-pivot-100.xml") {
		t.Fatalf("%v, want a pivot error", statuses[0].Err)
	}
	wantProblem(t, statuses[0].Err, SigUntrustedSigner)
	if len(statuses) != 1 {
		t.Errorf("%d statuses: national lists fetched through a broken chain", len(statuses))
	}

	// A pivot gone.
	eu.Server.Put("/eu-lotl-pivot-100.xml", good)
	eu.Server.Delete("/eu-lotl-pivot-200.xml")
	statuses, _ = tl.Update(t.Context())
	var fe *FetchError
	if !errors.As(statuses[0].Err, &pe) || !errors.As(statuses[0].Err, &fe) {
		t.Fatalf("%v, want a pivot that cannot be fetched", statuses[0].Err)
	}
}

// The pivots' addresses come from the LOTL before it is verified: a LOTL
// listing thousands makes no thousand requests.
func TestTooManyPivots(t *testing.T) {
	old := tltest.NewSigner(t, "pin")
	eu, _ := pivotEU(t, old, recently())
	var uris []string
	for i := 0; i < 1000; i++ {
		uris = append(uris, eu.Server.URL("/eu-lotl-pivot-"+itoa(i%1000)+".xml"))
	}
	eu.LOTL.SchemeURIs = append(uris, testJournal)
	eu.PublishLOTL(t)
	tl := &TrustedLists{URL: eu.LOTLURL(), Pins: []*x509.Certificate{old.Cert}, Journal: testJournal, Cache: t.TempDir(), Client: eu.Client()}
	statuses, _ := tl.Update(t.Context())
	if !errors.Is(statuses[0].Err, ErrTooManyPivots) {
		t.Fatalf("%v", statuses[0].Err)
	}
	if eu.Server.Hits("/eu-lotl-pivot-100.xml") != 0 {
		t.Error("pivots fetched")
	}
}
