package trust

import (
	"crypto/x509"
	_ "embed"
)

//go:embed ojeu-2019-c276.pem
var ojeu2019C276 []byte

// OfficialJournalPins returns the certificates the Official Journal of the
// European Union announced as allowed to sign the List of Trusted Lists
// (OJ C 276, 16.8.2019, p. 1, at OfficialJournalURL), for
// TrustedLists.Pins; the file ojeu-2019-c276.pem names its sources.
//
// All but one (valid until May 2028) have expired since, and the
// Commission has moved the LOTL to newer certificates through pivot LOTLs:
// with TrustedLists.Journal set to OfficialJournalURL, those are followed
// (see signers in pivots.go). When a new notice replaces this one, the
// caller passes its certificates and address instead.
func OfficialJournalPins() []*x509.Certificate {
	certs, _ := parsePEM(ojeu2019C276) // cannot fail: TestOfficialJournalPins
	return certs
}
