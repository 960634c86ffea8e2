package trust

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust/tltest"
)

var (
	t2010 = time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC)
	t2016 = time.Date(2016, 7, 1, 0, 0, 0, 0, time.UTC)
	t2020 = time.Date(2020, 1, 15, 12, 0, 0, 0, time.UTC)
	t2024 = time.Date(2024, 5, 2, 8, 30, 0, 0, time.UTC)
)

// newCA returns a self-signed CA certificate named name.
func newCA(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Trust tests"}},
		NotBefore:             time.Now().AddDate(-20, 0, 0),
		NotAfter:              time.Now().AddDate(20, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func frList(services ...tltest.Service) *tltest.List {
	return &tltest.List{Territory: "FR", Sequence: 7, Providers: []tltest.Provider{{Name: "Test TSP", Services: services}}}
}

func newTrustedLists(t testing.TB, eu *tltest.EU) *TrustedLists {
	return &TrustedLists{URL: eu.LOTLURL(), Pins: eu.Pins(), Cache: t.TempDir(), Client: eu.Client()}
}

// update runs Update and returns the statuses by territory.
func update(t *testing.T, tl *TrustedLists) map[string]ListStatus {
	t.Helper()
	statuses, err := tl.Update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return byTerritory(statuses)
}

func byTerritory(statuses []ListStatus) map[string]ListStatus {
	m := map[string]ListStatus{}
	for _, s := range statuses {
		m[s.Territory] = s
	}
	return m
}

func wantProblem(t *testing.T, err error, p SignatureProblem) *SignatureError {
	t.Helper()
	var se *SignatureError
	if !errors.As(err, &se) || se.Problem != p {
		t.Fatalf("error %v, want a signature error %q", err, p)
	}
	return se
}

func TestGrantedServiceIsQualifiedAnchor(t *testing.T) {
	ca := newCA(t, "Test Qualified CA")
	eu := tltest.NewEU(t, frList(tltest.Service{
		Type: tltest.CAQC, Name: "Test Qualified CA", Status: tltest.Granted, Start: t2016,
		Certs: []*x509.Certificate{ca}, Additional: []string{tltest.ForESignatures},
	}))
	tl := newTrustedLists(t, eu)
	st := update(t, tl)
	if len(st) != 2 || st["EU"].Err != nil || st["FR"].Err != nil {
		t.Fatalf("statuses %+v", st)
	}
	if st["FR"].Sequence != 7 || st["FR"].Fetched.IsZero() || st["FR"].NextUpdate.IsZero() {
		t.Errorf("FR status %+v", st["FR"])
	}
	anchors, statuses := tl.Anchors()
	for _, s := range statuses {
		if s.Err != nil {
			t.Fatalf("%s: %v", s.Territory, s.Err)
		}
	}
	if len(anchors) != 1 {
		t.Fatalf("%d anchors, want 1", len(anchors))
	}
	a := anchors[0]
	if !a.Cert.Equal(ca) || a.Source != pdf.SourceTrustedList || a.Country != "FR" || a.Usage != pdf.UsageSignatures ||
		a.Name != "Test Qualified CA (Test TSP)" {
		t.Errorf("anchor %+v", a)
	}
	if len(a.Periods) != 1 || !a.Periods[0].From.Equal(t2016) || !a.Periods[0].To.IsZero() || !a.Periods[0].Qualified {
		t.Errorf("periods %+v", a.Periods)
	}
	if p, ok := a.PeriodAt(t2024); !ok || !p.Qualified {
		t.Errorf("not trusted and qualified in 2024")
	}
	if _, ok := a.PeriodAt(t2010); ok {
		t.Errorf("trusted before it was granted")
	}
	if byTerritory(statuses)["FR"].Anchors != 1 {
		t.Errorf("FR status counts %d anchors", byTerritory(statuses)["FR"].Anchors)
	}
}

func TestWithdrawnServicePeriodEnds(t *testing.T) {
	ca := newCA(t, "Withdrawn CA")
	eu := tltest.NewEU(t, frList(tltest.Service{
		Type: tltest.CAQC, Name: "Withdrawn CA", Status: tltest.Withdrawn, Start: t2020,
		Certs:   []*x509.Certificate{ca},
		History: []tltest.History{{Status: tltest.Granted, Start: t2016}},
	}))
	tl := newTrustedLists(t, eu)
	update(t, tl)
	anchors, _ := tl.Anchors()
	if len(anchors) != 1 {
		t.Fatalf("%d anchors", len(anchors))
	}
	a := anchors[0]
	if len(a.Periods) != 1 || !a.Periods[0].From.Equal(t2016) || !a.Periods[0].To.Equal(t2020) {
		t.Fatalf("periods %+v, want [2016, 2020)", a.Periods)
	}
	if _, ok := a.PeriodAt(t2020.Add(-time.Second)); !ok {
		t.Error("not trusted just before the withdrawal")
	}
	if _, ok := a.PeriodAt(t2020); ok {
		t.Error("trusted at the withdrawal")
	}
	if _, ok := a.PeriodAt(t2024); ok {
		t.Error("trusted after the withdrawal")
	}
}

// A service whose status history never trusted it must give no anchor: an
// anchor without periods would be trusted at all times.
func TestServicesAnchors(t *testing.T) {
	cert := func(name string) []*x509.Certificate { return []*x509.Certificate{newCA(t, name)} }
	eu := tltest.NewEU(t, frList(
		tltest.Service{Type: tltest.CAQC, Name: "never", Status: tltest.Withdrawn, Start: t2020, Certs: cert("never"),
			History: []tltest.History{{Status: tltest.SupervisionCeased, Start: t2010}}},
		tltest.Service{Type: tltest.CAQC, Name: "web only", Status: tltest.Granted, Start: t2016, Certs: cert("web"),
			Additional: []string{tltest.ForWebAuthentication}},
		tltest.Service{Type: tltest.CAQC, Name: "seals", Status: tltest.Granted, Start: t2016, Certs: cert("seals"),
			Additional: []string{tltest.ForWebAuthentication, tltest.ForESeals}},
		tltest.Service{Type: tltest.OCSP, Name: "ocsp", Status: tltest.Granted, Start: t2016, Certs: cert("ocsp")},
		tltest.Service{Type: tltest.CAPKC, Name: "national", Status: tltest.Recognised, Start: t2016, Certs: cert("national")},
		tltest.Service{Type: tltest.QTST, Name: "tsa", Status: tltest.Granted, Start: t2016, Certs: cert("tsa"),
			History: []tltest.History{{Type: "http://uri.etsi.org/TrstSvc/Svctype/TSA/TSS-QC", Status: tltest.Accredited, Start: t2010}}},
		// Before eIDAS: under supervision, then accredited, then granted:
		// one qualified period since 2010.
		tltest.Service{Type: tltest.CAQC, Name: "old", Status: tltest.Granted, Start: t2016, Certs: cert("old"),
			History: []tltest.History{
				{Status: tltest.Accredited, Start: t2010.AddDate(2, 0, 0)},
				{Status: tltest.UnderSupervision, Start: t2010},
			}},
		tltest.Service{Type: "http://uri.etsi.org/TrstSvc/Svctype/unknown", Name: "unknown", Status: tltest.Granted, Start: t2016, Certs: cert("unknown")},
	))
	tl := newTrustedLists(t, eu)
	update(t, tl)
	anchors, statuses := tl.Anchors()
	if err := byTerritory(statuses)["FR"].Err; err != nil {
		t.Fatal(err)
	}
	got := map[string]pdf.Anchor{}
	for _, a := range anchors {
		got[strings.TrimSuffix(a.Name, " (Test TSP)")] = a
	}
	for _, name := range []string{"never", "web only", "ocsp", "unknown"} {
		if _, ok := got[name]; ok {
			t.Errorf("service %q gave an anchor", name)
		}
	}
	want := map[string]struct {
		usage     pdf.Usage
		from      time.Time
		qualified bool
	}{
		"seals":    {pdf.UsageSignatures, t2016, true},
		"national": {pdf.UsageSignatures, t2016, false},
		"tsa":      {pdf.UsageTimestamps, t2010, false},
		"old":      {pdf.UsageSignatures, t2010, true},
	}
	for name, w := range want {
		a, ok := got[name]
		if !ok {
			t.Errorf("no anchor for %q", name)
			continue
		}
		if a.Usage != w.usage || len(a.Periods) != 1 || !a.Periods[0].From.Equal(w.from) || !a.Periods[0].To.IsZero() || a.Periods[0].Qualified != w.qualified {
			t.Errorf("%s: usage %d periods %+v", name, a.Usage, a.Periods)
		}
	}
	if len(anchors) != len(want) {
		t.Errorf("%d anchors, want %d", len(anchors), len(want))
	}
}

// One byte changed after signing: refused on download, and nothing of the
// list is trusted.
func TestAlteredListRefused(t *testing.T) {
	ca := newCA(t, "CA")
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{ca}}))
	signed := eu.Server.Get("/FR.xml")
	i := bytes.Index(signed, []byte("Test TSP"))
	altered := bytes.Clone(signed)
	altered[i] = 'B'
	eu.Server.Put("/FR.xml", altered)

	tl := newTrustedLists(t, eu)
	st := update(t, tl)
	wantProblem(t, st["FR"].Err, SigAltered)
	if st["EU"].Err != nil {
		t.Fatal(st["EU"].Err)
	}
	anchors, statuses := tl.Anchors()
	if len(anchors) != 0 {
		t.Fatalf("%d anchors from a refused list", len(anchors))
	}
	if err := byTerritory(statuses)["FR"].Err; !errors.Is(err, ErrNotCached) {
		t.Fatalf("FR: %v, want not cached", err)
	}
}

// The cache is verified again: a list changed on disk after Update gives
// nothing.
func TestTamperedCacheRefused(t *testing.T) {
	ca := newCA(t, "CA")
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Withdrawn, Start: t2016, Certs: []*x509.Certificate{ca},
		History: []tltest.History{{Status: tltest.Granted, Start: t2010}}}))
	tl := newTrustedLists(t, eu)
	update(t, tl)
	path := filepath.Join(tl.Cache, "FR.xml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The attacker's wish: the service granted again.
	i := bytes.LastIndex(data, []byte("Svcstatus/withdrawn"))
	if err := os.WriteFile(path, append(append(bytes.Clone(data[:i]), "Svcstatus/granted__"...), data[i+len("Svcstatus/withdrawn"):]...), 0o644); err != nil {
		t.Fatal(err)
	}
	anchors, statuses := tl.Anchors()
	wantProblem(t, byTerritory(statuses)["FR"].Err, SigAltered)
	if len(anchors) != 0 {
		t.Fatalf("%d anchors from a tampered cache", len(anchors))
	}

	// The cached LOTL likewise.
	update(t, tl)
	lotl := filepath.Join(tl.Cache, "lotl.xml")
	data, _ = os.ReadFile(lotl)
	os.WriteFile(lotl, bytes.Replace(data, []byte("FR.xml"), []byte("XX.xml"), 1), 0o644)
	anchors, statuses = tl.Anchors()
	wantProblem(t, statuses[0].Err, SigAltered)
	if len(anchors) != 0 || len(statuses) != 1 {
		t.Fatalf("%d anchors, %d statuses from a tampered LOTL", len(anchors), len(statuses))
	}
}

func TestNationalListSignedByUnnamedCertificate(t *testing.T) {
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}}))
	intruder := tltest.NewSigner(t, "not the FR signer")
	eu.Server.Put("/FR.xml", intruder.Sign(t, eu.Lists["FR"].XML()))
	tl := newTrustedLists(t, eu)
	st := update(t, tl)
	se := wantProblem(t, st["FR"].Err, SigUntrustedSigner)
	if se.Signer == nil || !se.Signer.Equal(intruder.Cert) {
		t.Errorf("signer %v, want the intruder", se.Signer)
	}
	if anchors, _ := tl.Anchors(); len(anchors) != 0 {
		t.Fatalf("%d anchors", len(anchors))
	}
}

func TestLOTLSignedByUnpinnedCertificate(t *testing.T) {
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}}))
	intruder := tltest.NewRSASigner(t, "not the Commission")
	eu.Server.Put("/lotl.xml", intruder.Sign(t, eu.LOTL.XML()))
	tl := newTrustedLists(t, eu)
	statuses, err := tl.Update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(statuses) != 1 {
		t.Fatalf("%d statuses: national lists fetched from an untrusted LOTL", len(statuses))
	}
	wantProblem(t, statuses[0].Err, SigUntrustedSigner)
	if eu.Server.Hits("/FR.xml") != 0 {
		t.Error("FR list fetched through an untrusted LOTL")
	}
	if anchors, _ := tl.Anchors(); len(anchors) != 0 {
		t.Fatalf("%d anchors", len(anchors))
	}
}

// A signature whose only reference is its own SignedProperties proves
// nothing about the list.
func TestSignatureOverSignedPropertiesOnly(t *testing.T) {
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}}))
	eu.Server.Put("/FR.xml", eu.Signers["FR"].SignWith(t, eu.Lists["FR"].XML(), tltest.SignOptions{NoDocumentReference: true}))
	tl := newTrustedLists(t, eu)
	st := update(t, tl)
	wantProblem(t, st["FR"].Err, SigPartial)
	if anchors, _ := tl.Anchors(); len(anchors) != 0 {
		t.Fatalf("%d anchors", len(anchors))
	}
}

// An older list, validly signed (a replay), does not replace a newer one.
func TestRollbackRefused(t *testing.T) {
	ca := newCA(t, "CA")
	l := frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Withdrawn, Start: t2020, Certs: []*x509.Certificate{ca},
		History: []tltest.History{{Status: tltest.Granted, Start: t2016}}})
	eu := tltest.NewEU(t, l)
	old := frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{ca}})
	old.Sequence = l.Sequence - 1
	oldSigned := eu.Signers["FR"].Sign(t, old.XML())

	tl := newTrustedLists(t, eu)
	update(t, tl)
	eu.Server.Put("/FR.xml", oldSigned)
	st := update(t, tl)
	var rb *RollbackError
	if !errors.As(st["FR"].Err, &rb) || rb.Kept != 7 || rb.Fetched != 6 {
		t.Fatalf("FR: %v, want a rollback error", st["FR"].Err)
	}
	anchors, _ := tl.Anchors()
	if len(anchors) != 1 || !anchors[0].Periods[0].To.Equal(t2020) {
		t.Fatalf("the replayed list replaced the kept one: %+v", anchors)
	}
}

// The LOTL points to DE, but what is served there is a list of FR, signed
// with DE's key.
func TestTerritoryMismatch(t *testing.T) {
	de := &tltest.List{Territory: "DE", Sequence: 3}
	eu := tltest.NewEU(t, de)
	fake := frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}})
	eu.Server.Put("/DE.xml", eu.Signers["DE"].Sign(t, fake.XML()))
	tl := newTrustedLists(t, eu)
	st := update(t, tl)
	var te *TerritoryError
	if !errors.As(st["DE"].Err, &te) || te.Want != "DE" || te.Got != "FR" {
		t.Fatalf("DE: %v", st["DE"].Err)
	}
}

func TestUnreachable(t *testing.T) {
	ca := newCA(t, "CA")
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{ca}}),
		&tltest.List{Territory: "IT"})
	tl := newTrustedLists(t, eu)

	eu.Server.Delete("/IT.xml")
	st := update(t, tl)
	var fe *FetchError
	if !errors.As(st["IT"].Err, &fe) || fe.Status != http.StatusNotFound {
		t.Fatalf("IT: %v", st["IT"].Err)
	}
	if st["FR"].Err != nil {
		t.Fatal(st["FR"].Err)
	}

	// The LOTL gone: the kept one still says where the national lists are.
	eu.Server.Delete("/lotl.xml")
	eu.Lists["FR"].Sequence++
	eu.Publish(t, eu.Lists["FR"])
	st = update(t, tl)
	if !errors.As(st["EU"].Err, &fe) || fe.Status != http.StatusNotFound {
		t.Fatalf("EU: %v", st["EU"].Err)
	}
	if st["FR"].Err != nil || st["FR"].Sequence != 8 {
		t.Fatalf("FR: %+v", st["FR"])
	}

	// Nothing answers: every list unreachable, the cache still in use.
	eu.Server.Close()
	st = update(t, tl)
	if !errors.As(st["EU"].Err, &fe) || fe.Err == nil || !errors.As(st["FR"].Err, &fe) || fe.Err == nil {
		t.Fatalf("statuses %+v", st)
	}
	anchors, statuses := tl.Anchors()
	if len(anchors) != 1 || byTerritory(statuses)["FR"].Sequence != 8 {
		t.Fatalf("%d anchors, statuses %+v", len(anchors), statuses)
	}
}

// A list past its NextUpdate is still used, and says so.
func TestStaleListUsed(t *testing.T) {
	l := frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}})
	l.Issued = time.Now().AddDate(0, -8, 0).UTC().Truncate(time.Second)
	l.NextUpdate = l.Issued.AddDate(0, 6, 0)
	eu := tltest.NewEU(t, l)
	tl := newTrustedLists(t, eu)
	update(t, tl)
	anchors, statuses := tl.Anchors()
	fr := byTerritory(statuses)["FR"]
	if fr.Err != nil || len(anchors) != 1 {
		t.Fatalf("%v, %d anchors", fr.Err, len(anchors))
	}
	if !fr.Stale(time.Now()) || !fr.NextUpdate.Equal(l.NextUpdate) || !fr.Issued.Equal(l.Issued) {
		t.Errorf("status %+v: not stale", fr)
	}
	if byTerritory(statuses)["EU"].Stale(time.Now()) {
		t.Error("fresh LOTL stale")
	}
}

func TestExpiredListSigner(t *testing.T) {
	eu := tltest.NewEU(t, frList())
	expired := tltest.NewExpiredSigner(t, "expired FR signer")
	eu.Signers["FR"] = expired
	eu.Publish(t, eu.Lists["FR"])
	eu.PublishLOTL(t)
	st := update(t, newTrustedLists(t, eu))
	se := wantProblem(t, st["FR"].Err, SigSignerExpired)
	if !se.Signer.Equal(expired.Cert) {
		t.Error("signer not named")
	}
}

func TestListTooLarge(t *testing.T) {
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}}))
	tl := newTrustedLists(t, eu)
	tl.MaxSize = int64(len(eu.Server.Get("/lotl.xml")) + 1)
	eu.Server.Put("/FR.xml", append(eu.Server.Get("/FR.xml"), bytes.Repeat([]byte(" "), int(tl.MaxSize))...))
	st := update(t, tl)
	if st["EU"].Err != nil || !errors.Is(st["FR"].Err, ErrTooLarge) {
		t.Fatalf("statuses %+v", st)
	}
}

func TestUpdateNeedsClientAndPins(t *testing.T) {
	tl := &TrustedLists{URL: "https://127.0.0.1:1/lotl.xml", Pins: []*x509.Certificate{newCA(t, "pin")}, Cache: t.TempDir()}
	if _, err := tl.Update(context.Background()); !errors.Is(err, ErrNoClient) {
		t.Errorf("no client: %v", err)
	}
	tl.Client, tl.Pins = http.DefaultClient, nil
	if _, err := tl.Update(context.Background()); !errors.Is(err, ErrNoPins) {
		t.Errorf("no pins: %v", err)
	}
	if _, statuses := tl.Anchors(); !errors.Is(statuses[0].Err, ErrNoPins) {
		t.Errorf("anchors without pins: %v", statuses[0].Err)
	}
	tl.Pins = []*x509.Certificate{newCA(t, "pin")}
	if anchors, statuses := tl.Anchors(); len(anchors) != 0 || !errors.Is(statuses[0].Err, ErrNotCached) {
		t.Errorf("empty cache: %v", statuses[0].Err)
	}
}

// TestCachedAnchors: what Anchors made of the lists is reused while the
// list files are unchanged, and not once one of them changed (a tampered
// cache is checked again, and refused).
func TestCachedAnchors(t *testing.T) {
	ca := newCA(t, "CA FR")
	eu := tltest.NewEU(t, &tltest.List{Territory: "FR", Providers: []tltest.Provider{{Name: "TSP FR", Services: []tltest.Service{
		{Type: tltest.CAQC, Name: "CA FR", Status: tltest.Granted, Start: time.Now().AddDate(-1, 0, 0), Certs: []*x509.Certificate{ca}}}}}})
	dir := t.TempDir()
	tl := &TrustedLists{URL: eu.LOTLURL(), Pins: eu.Pins(), Cache: dir, Client: eu.Client()}
	if _, err := tl.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, _ := tl.CachedAnchors()
	if len(first) == 0 {
		t.Fatal("no anchors")
	}
	if _, err := os.Stat(filepath.Join(dir, "anchors.json")); err != nil {
		t.Fatal("nothing derived kept:", err)
	}
	again, _ := tl.CachedAnchors()
	if len(again) != len(first) || !again[0].Cert.Equal(first[0].Cert) || again[0].Name != first[0].Name {
		t.Fatalf("reused anchors differ: %+v", again)
	}
	// Reused, not made again: what the derived file says is what comes back.
	derived := filepath.Join(dir, "anchors.json")
	d, _ := os.ReadFile(derived)
	os.WriteFile(derived, bytes.ReplaceAll(d, []byte(first[0].Name), []byte("Marked")), 0o600)
	if got, _ := tl.CachedAnchors(); len(got) == 0 || got[0].Name != "Marked" {
		t.Fatalf("the derived anchors were not reused: %+v", got)
	}
	// A day later they are made again from the lists.
	tl.Time = func() time.Time { return time.Now().Add(25 * time.Hour) }
	if got, _ := tl.CachedAnchors(); len(got) == 0 || got[0].Name != first[0].Name {
		t.Fatalf("after a day: %+v", got)
	}
	tl.Time = nil
	// One byte of the French list changed: its signature is checked again.
	p := filepath.Join(dir, "FR.xml")
	data, _ := os.ReadFile(p)
	i := bytes.Index(data, []byte("CA FR"))
	data[i+3] = 'X'
	os.WriteFile(p, data, 0o644)
	if got, _ := tl.CachedAnchors(); len(got) != 0 {
		t.Fatalf("a tampered list still gives %d anchors", len(got))
	}
}
