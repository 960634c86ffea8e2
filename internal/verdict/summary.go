package verdict

import (
	"slices"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
)

// SourceDemo is the trust source of a signature that only the demo CA
// vouches for. pdf knows no demos: the app, which runs the demo CA, marks
// such signatures, and they are said as the demo's, never as trusted.
const SourceDemo pdf.AnchorSource = "demo"

// Summary says in one line what a document's signatures come to, and how
// bad the worst of them is: all valid; some not confirmed (intact, but a
// signer not trusted or a time or revocation status not proven); some not
// valid; or the document changed afterwards in a way signing does not
// allow.
func Summary(p *i18n.Printer, sigs []pdf.SignatureReport) (string, Severity) {
	var failed, undecided, demo int
	modified := false
	for _, s := range sigs {
		switch SeverityOf(s) {
		case Failed:
			failed++
			modified = modified || s.ModifiedAfter || slices.Contains(s.Problems, pdf.ProblemModified)
		case Undecided:
			undecided++
		}
		if s.TrustSource == SourceDemo {
			demo++
		}
	}
	n := len(sigs)
	say := func(key string, args ...any) string {
		if n == 1 {
			key += "_one"
		}
		return p.T(key, append([]any{"N", n}, args...)...)
	}
	switch {
	case modified:
		return p.T("verify.summary.modified"), Failed
	case failed > 0:
		return say("verify.summary.failed", "Failed", failed), Failed
	case undecided > 0:
		return say("verify.summary.undecided", "Undecided", undecided), Undecided
	case demo > 0:
		return say("verify.summary.demo"), Passed
	}
	return say("verify.summary.valid"), Passed
}
