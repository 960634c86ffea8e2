package pdf

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// renderStamp draws the stamp; the text part in Helvetica until the
// embedded font lands.
func renderStamp(u *update, a *Appearance, w, h float64, leaf *x509.Certificate, o Options, now time.Time) (cos.Ref, error) {
	content := fmt.Appendf(nil, "q 0 0 %g %g re W n Q", w, h)
	return u.add(&cos.Stream{Dict: cos.Dict{"Type": cos.Name("XObject"), "Subtype": cos.Name("Form"),
		"BBox": cos.Array{int64(0), int64(0), w, h}}, Raw: content}), nil
}
