package explain

import (
	"strings"
	"time"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
)

// Signature says in plain words what verification found about one
// signature: its state in a few words, then one line per fact.
func Signature(p *i18n.Printer, v pdf.SignatureReport) (state string, lines []string) {
	out := func(s string) { lines = append(lines, s) }
	state = p.T("verify.state.valid")
	switch {
	case !v.Intact:
		state = p.T("verify.state.broken")
	case v.Revocation == pdf.RevocationRevoked:
		state = p.T("verify.state.revoked")
	case v.ModifiedAfter:
		state = p.T("verify.state.modified")
	case !v.Trusted:
		state = p.T("verify.state.untrusted")
	}
	if v.Certificate != nil {
		h := pkcs.HolderOf(v.Certificate)
		out(p.T("verify.signer", "Name", h.Name, "Title", h.Title, "Member", h.MemberNumber, "Org", h.Organization))
	}
	when := func(t *time.Time) string { return t.Local().Format(p.T("format.datetime")) }
	if v.TimestampTime != nil {
		out(p.T("verify.timestamp", "Time", when(v.TimestampTime)))
	} else if v.ClaimedTime != nil {
		out(p.T("verify.claimed", "Time", when(v.ClaimedTime)))
	}
	if v.Intact {
		out(p.T("verify.intact"))
	} else {
		var problems []string
		for _, pr := range v.Problems {
			problems = append(problems, p.T("verify.problem."+pr))
		}
		out(p.T("verify.not_intact", "Problems", strings.Join(problems, ", ")))
	}
	var changes []string
	for _, c := range v.Changes {
		kind, field, _ := strings.Cut(c, ":")
		changes = append(changes, p.T("verify.change."+kind, "Field", field))
	}
	switch {
	case v.CoversWholeFile:
		out(p.T("verify.no_changes"))
	case v.ModifiedAfter:
		out(p.T("verify.bad_changes", "Changes", strings.Join(changes, "; ")))
	default:
		out(p.T("verify.allowed_changes", "Changes", strings.Join(changes, "; ")))
	}
	if v.Trusted {
		out(p.T("verify.trusted"))
	} else {
		out(p.T("verify.untrusted", "Why", p.T("verify.trust."+v.TrustProblem)))
	}
	out(p.T("verify.revocation." + v.Revocation))
	if v.Level != "" {
		out(p.T("verify.level", "Level", v.Level))
	}
	return state, lines
}
