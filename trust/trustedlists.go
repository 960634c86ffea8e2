package trust

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pdf"
)

// LOTL is where the European Commission publishes the List of Trusted
// Lists.
const LOTL = "https://ec.europa.eu/tools/lotl/eu-lotl.xml"

// DefaultMaxListSize caps one downloaded list. The LOTL is about 1 MiB;
// the largest national lists are a few tens of MiB.
const DefaultMaxListSize = 64 << 20

var (
	// ErrNoClient: Update needs the caller's HTTP client (the one that
	// applies the proxy settings); it never falls back on a default one.
	ErrNoClient = errors.New("trust: no HTTP client to fetch the trusted lists")
	// ErrNoPins: no certificate is allowed to sign the LOTL.
	ErrNoPins = errors.New("trust: no certificate pinned for the List of Trusted Lists")
	// ErrNotCached: the list has not been downloaded yet (run Update).
	ErrNotCached = errors.New("trust: trusted list not downloaded yet")
	// ErrDuplicateTerritory: the LOTL points twice to lists of one territory.
	ErrDuplicateTerritory = errors.New("trust: two trusted lists for one territory")
	// ErrBadTerritory: the LOTL names a territory that is not a country code.
	ErrBadTerritory = errors.New("trust: not a territory code")
)

// FetchError: a list could not be downloaded. Err is the network error, or
// nil when the server answered with an HTTP status other than 200.
type FetchError struct {
	URL    string
	Status int
	Err    error
}

func (e *FetchError) Error() string {
	if e.Err != nil {
		return "trust: fetching " + e.URL + ": " + e.Err.Error()
	}
	return fmt.Sprintf("trust: fetching %s: HTTP status %d", e.URL, e.Status)
}
func (e *FetchError) Unwrap() error { return e.Err }

// RollbackError: a downloaded list is older (lower TSLSequenceNumber) than
// the verified copy already kept, as a replay of an old list would be.
// The kept copy stays.
type RollbackError struct {
	Kept, Fetched int
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("trust: downloaded list number %d is older than the kept number %d", e.Fetched, e.Kept)
}

// TerritoryError: a list is not of the territory the LOTL points to it for.
type TerritoryError struct {
	Want, Got string
}

func (e *TerritoryError) Error() string {
	return "trust: the list for " + e.Want + " is a list of " + e.Got
}

// PivotError: a pivot LOTL on the way from the pins to the LOTL's signing
// certificates could not be downloaded or verified; Err says why.
type PivotError struct {
	URL string
	Err error
}

func (e *PivotError) Error() string { return "trust: pivot LOTL " + e.URL + ": " + e.Err.Error() }
func (e *PivotError) Unwrap() error { return e.Err }

// ListStatus is what became of one trusted list in Update or Anchors.
type ListStatus struct {
	// Territory is the list's country ("FR"); the LOTL's is "EU".
	Territory string
	URL       string
	// Sequence, Issued and NextUpdate are the list's TSLSequenceNumber,
	// ListIssueDateTime and NextUpdate (zero for a closed list), known
	// when it verified.
	Sequence           int
	Issued, NextUpdate time.Time
	// Fetched is when the copy was downloaded.
	Fetched time.Time
	// Anchors is how many anchors the list gave (Anchors only).
	Anchors int
	// Problems are the services of a used list that were left out, each a
	// *ServiceError (Anchors only).
	Problems []error
	// Err is why the list was not downloaded (Update) or is not used
	// (Anchors): a *FetchError, *SignatureError, *RollbackError,
	// *TerritoryError, ErrNotTrustedList, ErrNotCached, ErrTooLarge... nil
	// when all went well.
	Err error
}

// Stale reports whether the list's NextUpdate has passed at t. A stale list
// is still used, as DSS does by default with a warning: a member state
// that publishes late, or a computer offline for a while, must not turn
// every signature of a country untrusted. The caller may warn.
func (s ListStatus) Stale(t time.Time) bool {
	return !s.NextUpdate.IsZero() && t.After(s.NextUpdate)
}

// TrustedLists fetches the EU List of Trusted Lists (ETSI TS 119 612) and
// the national lists it points to, verifies their XML signatures, keeps
// the verified lists in a cache folder, and turns the services they list
// into anchors.
//
// The LOTL must be signed by one of Pins; each national list by one of the
// certificates the LOTL gives for its territory. Anchors verifies the
// cached lists again every time: the cache is never trusted blindly.
type TrustedLists struct {
	// URL is the LOTL's address (LOTL for the EU's).
	URL string
	// Pins are the certificates allowed to sign the LOTL, as the Official
	// Journal of the EU announces them (OfficialJournalPins).
	Pins []*x509.Certificate
	// Cache is the folder where verified lists are kept.
	Cache string
	// Client fetches the lists. Update refuses a nil Client.
	Client *http.Client
	// MaxSize caps each list, in bytes; zero is DefaultMaxListSize.
	MaxSize int64
	// Journal, when set, is the address of the Official Journal notice
	// the Pins come from (OfficialJournalURL for OfficialJournalPins), and
	// the LOTL's "pivots" are followed: see signers. Empty, the LOTL must be
	// signed by one of Pins.
	Journal string
	// Time returns the current time; nil is time.Now. It judges the
	// validity of the lists' signing certificates.
	Time func() time.Time
}

// cacheMeta is kept beside each cached list.
type cacheMeta struct {
	URL      string    `json:"url"`
	Fetched  time.Time `json:"fetched"`
	Sequence int       `json:"sequence"`
}

const lotlName = "lotl"

// territoryCode is what a national list's territory must be: two letters
// (ISO 3166-1, with the EU's "EL" and "UK"). It names the cache files, so
// nothing else may reach the file system.
var territoryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// fetchers bounds how many lists Update downloads at once; verification
// is one list at a time, to bound memory.
const fetchers = 4

// Update downloads the LOTL and every national list it points to, verifies
// them and keeps those that verify in the cache, replacing older copies.
// It returns one status per list, the LOTL first. When the LOTL cannot be
// downloaded or verified, the cached LOTL (if it still verifies) says
// where the national lists are. The error is for what prevents any
// update: no client, no pins, no cache folder.
func (t *TrustedLists) Update(ctx context.Context) ([]ListStatus, error) {
	if t.Client == nil {
		return nil, ErrNoClient
	}
	if len(t.Pins) == 0 {
		return nil, ErrNoPins
	}
	if err := os.MkdirAll(t.Cache, 0o700); err != nil {
		return nil, err
	}
	now := t.now()

	lotlStatus := ListStatus{Territory: "EU", URL: t.URL}
	var lotl *list
	data, err := t.fetch(ctx, t.URL)
	if err == nil {
		var signers []*x509.Certificate
		if signers, err = t.signers(ctx, data); err == nil {
			lotl, err = t.accept(lotlName, t.URL, data, signers, "", now)
		}
	}
	if err == nil {
		lotlStatus.fill(lotl)
		lotlStatus.Fetched = now
	} else {
		lotlStatus.Err = err
		if lotl, _, err = t.cachedLOTL(now); err != nil {
			return []ListStatus{lotlStatus}, nil
		}
	}
	if lotl.Territory != "" {
		lotlStatus.Territory = lotl.Territory
	}

	ptrs := nationalPointers(lotl)
	statuses := make([]ListStatus, len(ptrs))
	var verify sync.Mutex
	sem := make(chan struct{}, fetchers)
	var wg sync.WaitGroup
	for i, p := range ptrs {
		statuses[i] = ListStatus{Territory: p.Territory, URL: p.Location, Err: p.err}
		if p.err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			data, err := t.fetch(ctx, p.Location)
			<-sem
			if err != nil {
				statuses[i].Err = err
				return
			}
			verify.Lock()
			defer verify.Unlock()
			l, err := t.accept(p.Territory, p.Location, data, p.Signers, p.Territory, now)
			if err != nil {
				statuses[i].Err = err
				return
			}
			statuses[i].fill(l)
			statuses[i].Fetched = now
		}()
	}
	wg.Wait()
	return append([]ListStatus{lotlStatus}, statuses...), nil
}

// Anchors verifies the cached LOTL against the pins, then each cached
// national list it points to against the certificates it gives, and
// returns the anchors of the lists that verify: the CA/QC and CA/PKC
// services for signatures, the TSA/QTST and TSA services for time-stamps,
// each with the periods its status history trusts (see servicePeriods).
// A list that does not verify gives nothing. Statuses come one per list,
// the LOTL first.
//
// It reads and verifies every list: seconds of work for the whole EU.
// Call it once and keep the result until the next Update.
func (t *TrustedLists) Anchors() ([]pdf.Anchor, []ListStatus) {
	now := t.now()
	lotlStatus := ListStatus{Territory: "EU", URL: t.URL}
	if len(t.Pins) == 0 {
		lotlStatus.Err = ErrNoPins
		return nil, []ListStatus{lotlStatus}
	}
	lotl, meta, err := t.cachedLOTL(now)
	if err != nil {
		lotlStatus.Err = err
		return nil, []ListStatus{lotlStatus}
	}
	lotlStatus.fill(lotl)
	lotlStatus.Fetched = meta.Fetched
	if lotl.Territory != "" {
		lotlStatus.Territory = lotl.Territory
	}
	statuses := []ListStatus{lotlStatus}
	var anchors []pdf.Anchor
	for _, p := range nationalPointers(lotl) {
		st := ListStatus{Territory: p.Territory, URL: p.Location, Err: p.err}
		if p.err == nil {
			var got []pdf.Anchor
			var problems []error
			l, meta, err := t.cached(p.Territory, p.Signers, p.Territory, now, func(tsp *trustServiceProvider) {
				a, errs := providerAnchors(p.Territory, tsp)
				got = append(got, a...)
				problems = append(problems, errs...)
			})
			if err != nil {
				st.Err = err
			} else {
				st.fill(l)
				st.Fetched = meta.Fetched
				st.Anchors = len(got)
				st.Problems = problems
				anchors = append(anchors, got...)
			}
		}
		statuses = append(statuses, st)
	}
	return anchors, statuses
}

func (s *ListStatus) fill(l *list) {
	s.Sequence, s.Issued, s.NextUpdate = l.Sequence, l.Issued, l.NextUpdate
}

type nationalPointer struct {
	pointer
	err error
}

// nationalPointers returns the LOTL's pointers to national XML lists (not
// the PDF copies, not the LOTL's pointer to itself).
func nationalPointers(lotl *list) []nationalPointer {
	var ptrs []nationalPointer
	seen := map[string]bool{}
	for _, p := range lotl.Pointers {
		if p.MimeType != mimeTSLXML || p.Type == tslTypeLOTL || p.Territory == lotl.Territory {
			continue
		}
		np := nationalPointer{pointer: p}
		switch u, err := url.Parse(p.Location); {
		case !territoryCode.MatchString(p.Territory):
			np.err = ErrBadTerritory
		case seen[p.Territory]:
			np.err = ErrDuplicateTerritory
		case err != nil || (u.Scheme != "https" && u.Scheme != "http"):
			np.err = &FetchError{URL: p.Location, Err: errors.New("not an http(s) address")}
		}
		seen[p.Territory] = true
		ptrs = append(ptrs, np)
	}
	return ptrs
}

func (t *TrustedLists) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &FetchError{URL: url, Err: err}
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return nil, &FetchError{URL: url, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{URL: url, Status: resp.StatusCode}
	}
	max := t.maxSize()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, &FetchError{URL: url, Err: err}
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("trust: %s: %w", url, ErrTooLarge)
	}
	return data, nil
}

// accept verifies a downloaded list and keeps it unless the kept copy is
// newer.
func (t *TrustedLists) accept(name, url string, data []byte, signers []*x509.Certificate, territory string, now time.Time) (*list, error) {
	l, err := verifyAndParse(data, signers, territory, now, nil)
	if err != nil {
		return nil, err
	}
	if kept, err := t.meta(name); err == nil && l.Sequence < kept.Sequence {
		return nil, &RollbackError{Kept: kept.Sequence, Fetched: l.Sequence}
	}
	if err := atomicfile.Write(t.path(name, ".xml"), data, 0o644); err != nil {
		return nil, err
	}
	meta, err := json.Marshal(cacheMeta{URL: url, Fetched: now.UTC(), Sequence: l.Sequence})
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(t.path(name, ".json"), meta, 0o644); err != nil {
		return nil, err
	}
	return l, nil
}

// cached reads a kept list and verifies it again.
func (t *TrustedLists) cached(name string, signers []*x509.Certificate, territory string, now time.Time, provider func(*trustServiceProvider)) (*list, cacheMeta, error) {
	data, meta, err := t.readCached(name)
	if err != nil {
		return nil, meta, err
	}
	l, err := verifyAndParse(data, signers, territory, now, provider)
	return l, meta, err
}

// cachedLOTL reads the kept LOTL and verifies it again, through the kept
// pivots.
func (t *TrustedLists) cachedLOTL(now time.Time) (*list, cacheMeta, error) {
	data, meta, err := t.readCached(lotlName)
	if err != nil {
		return nil, meta, err
	}
	signers, err := t.signers(nil, data)
	if err != nil {
		return nil, meta, err
	}
	l, err := verifyAndParse(data, signers, "", now, nil)
	return l, meta, err
}

func (t *TrustedLists) readCached(name string) ([]byte, cacheMeta, error) {
	meta, err := t.meta(name)
	if err != nil {
		return nil, meta, err
	}
	data, err := t.readFile(t.path(name, ".xml"))
	return data, meta, err
}

// readFile reads a cached file, within the size cap.
func (t *TrustedLists) readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotCached
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	max := t.maxSize()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}

func (t *TrustedLists) meta(name string) (cacheMeta, error) {
	var m cacheMeta
	data, err := os.ReadFile(t.path(name, ".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return m, ErrNotCached
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("trust: cache index %s: %w", name, err)
	}
	return m, nil
}

// verifyAndParse verifies a list's signature and reads it; a list of
// another territory than the one expected (if any) is refused, and so is
// what provider saw of it (the caller drops it on error).
func verifyAndParse(data []byte, signers []*x509.Certificate, territory string, now time.Time, provider func(*trustServiceProvider)) (*list, error) {
	v, err := verifyList(data, signers, now)
	if err != nil {
		return nil, err
	}
	l, err := parseList(v.content(), provider)
	if err != nil {
		return nil, err
	}
	l.Signer = v.signer
	if territory != "" && l.Territory != territory {
		return nil, &TerritoryError{Want: territory, Got: l.Territory}
	}
	return l, nil
}

func (t *TrustedLists) path(name, ext string) string {
	return filepath.Join(t.Cache, name+ext)
}

func (t *TrustedLists) maxSize() int64 {
	if t.MaxSize > 0 {
		return t.MaxSize
	}
	return DefaultMaxListSize
}

func (t *TrustedLists) now() time.Time {
	if t.Time != nil {
		return t.Time()
	}
	return time.Now()
}
