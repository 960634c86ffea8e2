package trust

import (
	"crypto/x509"
	_ "embed"
)

//go:embed ojeu-2019-c276.pem
var ojeu2019C276 []byte

// OfficialJournalPins returns the certificates the Official Journal of the
// European Union announced as allowed to sign the List of Trusted Lists
// (OJ C 276, 16.8.2019, p. 1), for TrustedLists.Pins; the file
// ojeu-2019-c276.pem names its sources.
//
// All but one (valid until May 2028) have expired, and the Commission may
// since have moved the LOTL to new certificates announced by a later
// notice or by a "pivot" LOTL (TS 119 612 v2.2.1, 5.3.13), which this
// package does not follow: Update then refuses the LOTL as signed by an
// untrusted signer, naming its certificate, and the caller must pass the
// pins of the newer notice.
func OfficialJournalPins() []*x509.Certificate {
	certs, _ := parsePEM(ojeu2019C276) // cannot fail: TestOfficialJournalPins
	return certs
}
