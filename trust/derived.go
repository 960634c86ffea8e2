package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pdf"
)

// Checking every list's XML signature takes seconds for the whole EU
// (tens of MiB of XML): too long for each "paraphe verify". What Anchors
// makes of the cached lists is therefore kept beside them (anchors.json)
// and reused while every list file is byte for byte the one it was made
// from, the configuration (address, pins) is the same, and it is less than
// derivedLife old. The lists themselves are still checked before they are
// believed, at most once per derivedLife; the derived file has the trust
// of the folder it is in, the user's own, like the user's store.
const (
	derivedName = "anchors"
	derivedLife = 24 * time.Hour
	derivedV    = 1
)

type derivedCache struct {
	Version  int               `json:"version"`
	Made     time.Time         `json:"made"`
	Config   string            `json:"config"`
	Files    map[string]string `json:"files"` // cache file → SHA-256 (hex)
	Statuses []derivedStatus   `json:"statuses"`
	Anchors  []derivedAnchor   `json:"anchors"`
}

type derivedStatus struct {
	Territory, URL     string
	Sequence           int
	Issued, NextUpdate time.Time
	Fetched            time.Time
	Anchors            int
	Problems           []string
	Err                string
	ErrKind            string `json:",omitempty"`
}

type derivedAnchor struct {
	Cert    []byte
	Name    string
	Country string
	Usage   pdf.Usage
	Periods []pdf.Period
}

// derivedError stands for an error kept in the derived file as words.
type derivedError struct{ msg string }

func (e *derivedError) Error() string { return e.msg }

// config identifies the configuration the lists were checked under.
func (t *TrustedLists) config() string {
	var fps []string
	for _, p := range t.Pins {
		fps = append(fps, Fingerprint(p))
	}
	sort.Strings(fps)
	return t.URL + " " + t.Journal + " " + strings.Join(fps, ",")
}

// listFiles returns the SHA-256 of every cached list file.
func (t *TrustedLists) listFiles() (map[string]string, error) {
	names, err := filepath.Glob(filepath.Join(t.Cache, "*.xml"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, n := range names {
		data, err := t.readFile(n)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		out[filepath.Base(n)] = hex.EncodeToString(sum[:])
	}
	return out, nil
}

// CachedAnchors is Anchors, reusing what an earlier call made of the same
// list files when it can (see derivedLife): what a command that runs often
// should call.
func (t *TrustedLists) CachedAnchors() ([]pdf.Anchor, []ListStatus) {
	files, err := t.listFiles()
	if err == nil {
		if a, st, ok := t.readDerived(files); ok {
			return a, st
		}
	}
	anchors, statuses := t.Anchors()
	if err == nil && len(files) > 0 {
		t.writeDerived(files, anchors, statuses)
	}
	return anchors, statuses
}

func (t *TrustedLists) readDerived(files map[string]string) ([]pdf.Anchor, []ListStatus, bool) {
	data, err := os.ReadFile(t.path(derivedName, ".json"))
	if err != nil {
		return nil, nil, false
	}
	var d derivedCache
	if json.Unmarshal(data, &d) != nil || d.Version != derivedV || d.Config != t.config() || len(d.Files) != len(files) {
		return nil, nil, false
	}
	if now := t.now(); now.Before(d.Made) || now.Sub(d.Made) > derivedLife {
		return nil, nil, false
	}
	for name, sum := range files {
		if d.Files[name] != sum {
			return nil, nil, false
		}
	}
	var anchors []pdf.Anchor
	for _, a := range d.Anchors {
		c, err := pdf.ParseCertificate(a.Cert)
		if err != nil {
			return nil, nil, false
		}
		anchors = append(anchors, pdf.Anchor{Cert: c, Source: pdf.SourceTrustedList, Name: a.Name, Country: a.Country,
			Usage: a.Usage, Periods: a.Periods})
	}
	var statuses []ListStatus
	for _, s := range d.Statuses {
		st := ListStatus{Territory: s.Territory, URL: s.URL, Sequence: s.Sequence, Issued: s.Issued, NextUpdate: s.NextUpdate,
			Fetched: s.Fetched, Anchors: s.Anchors}
		for _, p := range s.Problems {
			st.Problems = append(st.Problems, &derivedError{p})
		}
		if s.Err != "" {
			st.Err = restoreErr(s.ErrKind, s.Err)
		}
		statuses = append(statuses, st)
	}
	return anchors, statuses, true
}

func (t *TrustedLists) writeDerived(files map[string]string, anchors []pdf.Anchor, statuses []ListStatus) {
	d := derivedCache{Version: derivedV, Made: t.now(), Config: t.config(), Files: files}
	for _, a := range anchors {
		d.Anchors = append(d.Anchors, derivedAnchor{Cert: a.Cert.Raw, Name: a.Name, Country: a.Country, Usage: a.Usage, Periods: a.Periods})
	}
	for _, s := range statuses {
		ds := derivedStatus{Territory: s.Territory, URL: s.URL, Sequence: s.Sequence, Issued: s.Issued, NextUpdate: s.NextUpdate,
			Fetched: s.Fetched, Anchors: s.Anchors}
		for _, p := range s.Problems {
			ds.Problems = append(ds.Problems, p.Error())
		}
		if s.Err != nil {
			ds.Err, ds.ErrKind = s.Err.Error(), errKind(s.Err)
		}
		d.Statuses = append(d.Statuses, ds)
	}
	data, err := json.Marshal(d)
	if err == nil {
		atomicfile.Write(t.path(derivedName, ".json"), data, 0o600)
	}
}

// errKind and restoreErr keep a list's error kind across the derived
// file, so that what the user reads stays the same.
func errKind(err error) string {
	var se *SignatureError
	var fe *FetchError
	var re *RollbackError
	var te *TerritoryError
	switch {
	case errors.Is(err, ErrNotCached):
		return "not_cached"
	case errors.As(err, &se):
		return "signature:" + string(se.Problem)
	case errors.As(err, &fe):
		return "fetch"
	case errors.As(err, &re):
		return "rollback"
	case errors.As(err, &te):
		return "territory"
	case errors.Is(err, ErrNotTrustedList):
		return "not_list"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	}
	return ""
}

func restoreErr(kind, msg string) error {
	switch {
	case kind == "not_cached":
		return ErrNotCached
	case strings.HasPrefix(kind, "signature:"):
		return &SignatureError{Problem: SignatureProblem(strings.TrimPrefix(kind, "signature:")), Detail: msg}
	case kind == "fetch":
		return &FetchError{Err: &derivedError{msg}}
	case kind == "rollback":
		return &RollbackError{}
	case kind == "territory":
		return &TerritoryError{}
	case kind == "not_list":
		return ErrNotTrustedList
	case kind == "too_large":
		return ErrTooLarge
	}
	return &derivedError{msg}
}
