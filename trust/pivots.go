package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/paraphe/paraphe/internal/atomicfile"
)

// OfficialJournalURL is the notice OfficialJournalPins come from, for
// TrustedLists.Journal.
const OfficialJournalURL = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=uriserv:OJ.C_.2019.276.01.0001.01.ENG"

var (
	// ErrNoPivotSigners: a pivot LOTL names no certificate for the LOTL.
	ErrNoPivotSigners = errors.New("trust: pivot LOTL names no certificate to sign the LOTL")
	// ErrTooManyPivots: the LOTL lists more than MaxPivots pivots to follow.
	ErrTooManyPivots = errors.New("trust: too many pivot LOTLs")
)

// MaxPivots bounds the pivots followed: their addresses come from the LOTL
// before it is verified. The EU's lists about five.
const MaxPivots = 32

// Pivots (ETSI TS 119 612 v2.2.1, 5.3.13 and D.3; the EU's practice since
// 2019). The Commission announces the certificates that sign the LOTL in
// the Official Journal, rarely; when it moves to new ones in between, it
// publishes a "pivot": a LOTL, signed by the current certificates, whose
// pointer to the LOTL names the next ones. The LOTL then lists in its
// SchemeInformationURI the pivots, newest first, then the Official Journal
// notice, then older entries. From the pins of a notice, the pivots listed
// before it lead, oldest first, each verified with the certificates the
// previous one named, to the certificates the LOTL must be signed by. This
// is what DSS and iText do; two choices differ from iText's:
//
//   - the next certificates are those of the pivot's pointer to the LOTL
//     (TSLType EUlistofthelists, XML), not every certificate in the file,
//     which would let any national list's signer sign the LOTL;
//   - a pivot's signature is judged at the pivot's ListIssueDateTime, not
//     now: pivots are old, signed by certificates that have expired since.
//     The price: whoever holds the key of an expired pin (or of a
//     certificate an older pivot named) can forge a pivot. The pins and
//     pivots since 2019 are keys of the Commission's officials on
//     hardware tokens; a caller who prefers strictness leaves Journal
//     empty and passes the current certificates as Pins.
//
// Pivots are kept in the cache (they never change) and verified again
// each time.

// signers returns the certificates allowed to sign the LOTL in data: the
// pins, moved along the pivots the LOTL lists after the notice of Journal.
// ctx nil means offline: pivots come from the cache only.
func (t *TrustedLists) signers(ctx context.Context, data []byte) ([]*x509.Certificate, error) {
	if t.Journal == "" {
		return t.Pins, nil
	}
	// Which pivots the LOTL claims, read before it is verified: it is
	// verified at the end of the chain, and the chain starts at the pins.
	claimed, err := parseList(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)), nil)
	if err != nil {
		return t.Pins, nil // its verification will say what is wrong
	}
	pivots := pivotsAfter(claimed.SchemeURIs, t.Journal)
	if len(pivots) > MaxPivots {
		return nil, &PivotError{URL: pivots[len(pivots)-1], Err: ErrTooManyPivots}
	}
	signers := t.Pins
	for _, u := range pivots {
		next, err := t.pivot(ctx, u, signers)
		if err != nil {
			return nil, &PivotError{URL: u, Err: err}
		}
		signers = next
	}
	return signers, nil
}

// pivotsAfter returns the pivots listed before the journal's notice, the
// ones published after it, oldest first.
func pivotsAfter(uris []string, journal string) []string {
	j := slices.Index(uris, journal)
	var pivots []string
	for i := j - 1; i >= 0; i-- {
		if strings.Contains(uris[i], "eu-lotl-pivot") {
			pivots = append(pivots, uris[i])
		}
	}
	return pivots
}

// pivot verifies the pivot at u with signers and returns the certificates
// it names for the LOTL.
func (t *TrustedLists) pivot(ctx context.Context, u string, signers []*x509.Certificate) ([]*x509.Certificate, error) {
	sum := sha256.Sum256([]byte(u))
	path := t.path("pivot-"+hex.EncodeToString(sum[:8]), ".xml")
	data, err := t.readFile(path)
	fetched := false
	if errors.Is(err, ErrNotCached) && ctx != nil {
		if data, err = t.fetch(ctx, u); err != nil {
			return nil, err
		}
		fetched = true
	}
	if err != nil {
		return nil, err
	}
	claimed, err := parseList(bytes.NewReader(bytes.TrimPrefix(data, utf8BOM)), nil)
	if err != nil {
		return nil, err
	}
	v, err := verifyList(data, signers, claimed.Issued)
	if err != nil {
		return nil, err
	}
	l, err := parseList(v.content(), nil)
	if err != nil {
		return nil, err
	}
	var next []*x509.Certificate
	for _, p := range l.Pointers {
		if p.Type == tslTypeLOTL && p.MimeType == mimeTSLXML {
			next = append(next, p.Signers...)
		}
	}
	if len(next) == 0 || !l.Issued.Equal(claimed.Issued) {
		return nil, ErrNoPivotSigners
	}
	if fetched {
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	return next, nil
}
