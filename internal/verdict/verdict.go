// Package verdict says what verification found about a signature in the
// user's words: the desktop app, the command line and the exchange's web
// pages (which cannot link the client side that internal/explain does)
// say it the same.
package verdict

import (
	"crypto/x509"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/pdf"
)

// Severity ranks a signature's state for the eye: passed, not decidable,
// failed.
type Severity int

// Severities.
const (
	Passed Severity = iota
	Undecided
	Failed
)

// SeverityOf ranks a verdict.
func SeverityOf(v pdf.SignatureReport) Severity {
	switch v.Indication {
	case pdf.TotalPassed:
		return Passed
	case pdf.TotalFailed:
		return Failed
	}
	return Undecided
}

// Signature says in plain words what verification found about one
// signature or document time-stamp: its state in a few words, then one line
// per fact, who signed, why and where first. An intact signature from an
// authority the user does not trust says "intact" first: it must never read
// like an altered one.
func Signature(p *i18n.Printer, v pdf.SignatureReport) (state string, lines []string) {
	out := func(s string) { lines = append(lines, s) }
	state = p.T(stateKey(v))
	if v.Certificate != nil {
		switch {
		case v.Kind == pdf.KindDocumentTimestamp:
			out(p.T("verify.stamped_by", "Who", Who(p, v.Certificate)))
		case pdf.IsSeal(v.Certificate):
			out(p.T("verify.sealed_by", "Who", Who(p, v.Certificate)))
		default:
			out(p.T("verify.signer", "Who", Who(p, v.Certificate)))
		}
	}
	if v.Reason != "" {
		out(p.T("verify.reason", "Reason", v.Reason))
	}
	if v.Location != "" {
		out(p.T("verify.location", "Location", v.Location))
	}
	when := func(t *time.Time) string { return t.Local().Format(p.T("format.datetime")) }
	switch {
	case v.Kind == pdf.KindDocumentTimestamp && v.TimestampTime != nil:
		out(p.T("verify.doc_timestamp", "Time", when(v.TimestampTime)))
	case v.TimestampTime != nil:
		out(p.T("verify.timestamp", "Time", when(v.TimestampTime)))
	case v.ClaimedTime != nil:
		out(p.T("verify.claimed", "Time", when(v.ClaimedTime)))
	}
	if v.ProofTime != nil && (v.TimestampTime == nil || !v.ProofTime.Equal(*v.TimestampTime)) {
		out(p.T("verify.proof", "Time", when(v.ProofTime)))
	}
	if v.ExpiredSince && v.Certificate != nil {
		out(p.T("verify.expired_since", "Expiry", v.Certificate.NotAfter.Local().Format(p.T("format.date")), "Time", when(&v.ValidationTime)))
	}
	if v.Intact {
		out(p.T("verify.intact"))
	} else {
		key := "verify.not_checked"
		if v.SubIndication == pdf.HashFailure || v.SubIndication == pdf.SigCryptoFailure || v.SubIndication == pdf.FormatFailure {
			key = "verify.not_intact"
		}
		if list := problems(p, v, true); list != "" {
			out(p.T(key, "Problems", list))
		} else {
			out(p.T(key + ".none"))
		}
	}
	var changes []string
	for _, c := range v.Changes {
		kind, field, _ := strings.Cut(c, ":")
		changes = append(changes, p.T("verify.change."+kind, "Field", field))
	}
	switch {
	case v.CoversWholeFile:
		out(p.T("verify.no_changes"))
	case len(changes) == 0:
	case v.ModifiedAfter:
		out(p.T("verify.bad_changes", "Changes", strings.Join(changes, p.T("verify.list_separator"))))
	default:
		out(p.T("verify.allowed_changes", "Changes", strings.Join(changes, p.T("verify.list_separator"))))
	}
	switch {
	case v.Trusted && v.Qualified:
		out(p.T("verify.trusted.qualified", "Anchor", v.TrustAnchor))
	case v.Trusted:
		out(p.T("verify.trusted."+string(v.TrustSource), "Anchor", v.TrustAnchor))
	case v.TrustProblem == pdf.TrustUsage && v.Kind == pdf.KindDocumentTimestamp:
		out(p.T("verify.untrusted", "Why", p.T("verify.trust.usage_tsa")))
	case v.TrustProblem != "":
		out(p.T("verify.untrusted", "Why", p.T("verify.trust."+string(v.TrustProblem))))
	}
	if v.Kind == pdf.KindSignature && v.Intact {
		out(revocation(p, v))
	}
	switch {
	case strings.HasPrefix(string(v.Level), "PKCS7") && v.CAdES:
		out(p.T("verify.level.cms", "Level", strings.TrimPrefix(string(v.Level), "PKCS7-")))
	case strings.HasPrefix(string(v.Level), "PKCS7"):
		out(p.T("verify.level.pkcs7", "Level", string(v.Level)))
	case v.Level != "" && v.CAdES:
		out(p.T("verify.level.cades", "Level", string(v.Level)))
	case v.Level != "":
		out(p.T("verify.level", "Level", string(v.Level)))
	}
	if len(v.Weak) > 0 {
		out(p.T("verify.weak", "Algorithms", strings.Join(v.Weak, ", ")))
	}
	if notes := problems(p, v, false); notes != "" {
		out(p.T("verify.notes", "Notes", notes))
	}
	// The verdict in ETSI's words last: what matters to a reader comes
	// first, the vocabulary of experts after.
	out(p.T("verify.etsi", "Indication", string(v.Indication), "Sub", subText(v)))
	return state, lines
}

// stateKey is the headline's key: what a professional must know first.
func stateKey(v pdf.SignatureReport) string {
	doc := v.Kind == pdf.KindDocumentTimestamp
	switch v.Indication {
	case pdf.TotalPassed:
		if doc {
			return "verify.state.timestamp_valid"
		}
		if v.ExpiredSince {
			return "verify.state.valid_when_signed"
		}
		if v.TrustSource == SourceDemo {
			return "verify.state.valid_demo"
		}
		return "verify.state.valid"
	case pdf.TotalFailed:
		switch {
		case slices.Contains(v.Problems, pdf.ProblemModified):
			return "verify.state.modified"
		case v.SubIndication == pdf.HashFailure:
			return "verify.state.altered"
		case v.SubIndication == pdf.Revoked:
			return "verify.state.revoked"
		case v.SubIndication == pdf.NotYetValid:
			return "verify.state.not_yet_valid"
		}
		return "verify.state.broken"
	}
	switch v.SubIndication {
	case pdf.NoSigningCertificateFound:
		return "verify.state.no_certificate"
	case pdf.CryptoConstraintsFailure:
		return "verify.state.unsupported"
	case pdf.OutOfBoundsNoPOE, pdf.OutOfBoundsNotRevoked:
		return "verify.state.expired"
	case pdf.RevokedNoPOE, pdf.RevokedCANoPOE:
		return "verify.state.revoked_unproven"
	case pdf.TryLater:
		if v.ExpiredSince {
			return "verify.state.no_revocation_then"
		}
		return "verify.state.try_later"
	case pdf.CryptoConstraintsFailureNoPOE:
		return "verify.state.weak"
	}
	return "verify.state.untrusted"
}

// subText is the sub-indication with its meaning, or nothing.
func subText(v pdf.SignatureReport) string {
	if v.SubIndication == "" {
		return ""
	}
	return " / " + string(v.SubIndication)
}

// problems lists the problems in words: those that make the signature
// fail (fatal) or the others (notes).
func problems(p *i18n.Printer, v pdf.SignatureReport, fatal bool) string {
	var out []string
	for _, pr := range v.Problems {
		if isNote(pr) == fatal {
			continue
		}
		out = append(out, p.T("verify.problem."+string(pr)))
	}
	return strings.Join(out, p.T("verify.list_separator"))
}

// isNote: problems that do not decide the verdict alone.
func isNote(p pdf.Problem) bool {
	switch p {
	case pdf.ProblemUnreferenced, pdf.ProblemSeveralSigners, pdf.ProblemWeakAlgorithm, pdf.ProblemTimestampInvalid,
		pdf.ProblemTimestampMismatch, pdf.ProblemTimestampUntrusted, pdf.ProblemRevocationMissing, pdf.ProblemDamaged:
		return true
	}
	return false
}

func revocation(p *i18n.Printer, v pdf.SignatureReport) string {
	if v.ExpiredSince && (v.Revocation == pdf.RevocationNotChecked || v.Revocation == pdf.RevocationStale) {
		return p.T("verify.revocation.expired_no_data")
	}
	if v.Revocation == pdf.RevocationRevoked && v.RevokedAt != nil {
		at := v.RevokedAt.Local().Format(p.T("format.datetime"))
		if v.Indication == pdf.TotalPassed {
			return p.T("verify.revocation.revoked_later", "Time", at)
		}
		return p.T("verify.revocation.revoked_at", "Time", at)
	}
	return p.T("verify.revocation." + string(v.Revocation))
}

// Who names a certificate's holder in words, from any subject: the name
// (or the pseudonym, the organisation, the e-mail address), then the
// professional title, member number and order when the certificate carries
// a title (ours do), else the organisation and the country. Parts that are
// absent are left out.
func Who(p *i18n.Printer, c *x509.Certificate) string {
	s := c.Subject
	name := s.CommonName
	if name == "" {
		name = strings.TrimSpace(strings.Join(append(append([]string{}, givenNames(c)...), surnames(c)...), " "))
	}
	org := ""
	if len(s.Organization) > 0 {
		org = s.Organization[0]
	}
	if name == "" {
		name = attr(c, oidPseudonym)
	}
	if name == "" {
		name, org = org, ""
	}
	if name == "" {
		name = email(c)
	}
	if name == "" {
		name = p.T("verify.unnamed")
	}
	parts := []string{name}
	if title := attr(c, oidTitle); title != "" {
		parts = append(parts, title)
		if s.SerialNumber != "" {
			parts = append(parts, p.T("verify.signer.member", "Member", s.SerialNumber))
		}
		if org != "" {
			parts = append(parts, org)
		}
		return strings.Join(parts, ", ")
	}
	if org != "" && org != name {
		parts = append(parts, org)
	}
	if id := attr(c, oidOrganizationID); id != "" {
		parts = append(parts, id)
	}
	if len(s.Country) > 0 {
		parts = append(parts, CountryName(p.Lang, s.Country[0]))
	}
	return strings.Join(parts, ", ")
}

var (
	oidTitle     = []int{2, 5, 4, 12}
	oidGivenName = []int{2, 5, 4, 42}
	oidSurname   = []int{2, 5, 4, 4}
	// organizationIdentifier: a seal's organisation (VATIT-01234567890).
	oidOrganizationID = []int{2, 5, 4, 97}
	oidPseudonym      = []int{2, 5, 4, 65}
	oidEmail          = []int{1, 2, 840, 113549, 1, 9, 1}
)

// email is the holder's e-mail address, from the subject or the
// certificate's alternative names.
func email(c *x509.Certificate) string {
	if e := attr(c, oidEmail); e != "" {
		return e
	}
	if len(c.EmailAddresses) > 0 {
		return c.EmailAddresses[0]
	}
	return ""
}

func attr(c *x509.Certificate, oid []int) string {
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oid) {
			if s, ok := n.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

func givenNames(c *x509.Certificate) []string {
	if g := attr(c, oidGivenName); g != "" {
		return []string{g}
	}
	return nil
}

func surnames(c *x509.Certificate) []string {
	if g := attr(c, oidSurname); g != "" {
		return []string{g}
	}
	return nil
}

// CountryName is an ISO 3166 code's name in the user's language ("FR" →
// "France", "Francia").
func CountryName(lang, code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.English
	}
	if n := display.Regions(tag).Name(r); n != "" {
		return n
	}
	return code
}
