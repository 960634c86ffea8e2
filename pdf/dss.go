package pdf

import (
	"context"
	"io"
)

// dssData is the validation material of a signer's chain (B-LT).
type dssData struct{}

// appendDSS writes the second update of a B-LT signature: the catalog's
// /DSS with the certificates, OCSP responses and CRLs of the signer's chain
// and of the time-stamp. It returns the number of bytes written.
func (s *Signer) appendDSS(ctx context.Context, u *update, doc *document, cms []byte, prevXref, base int64, out io.Writer) (int64, error) {
	return 0, ErrRevocationNet
}
