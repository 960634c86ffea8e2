package explain

import (
	"crypto/x509"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/verdict"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
)

// A signature's verdict is said by package verdict, which the exchange
// server shares; these names keep the app's and the command line's.

// Severity ranks a signature's state for the eye.
type Severity = verdict.Severity

// Severities.
const (
	Passed    = verdict.Passed
	Undecided = verdict.Undecided
	Failed    = verdict.Failed
)

// SeverityOf ranks a verdict (verdict.SeverityOf).
func SeverityOf(v pdf.SignatureReport) Severity { return verdict.SeverityOf(v) }

// Signature says what verification found about one signature
// (verdict.Signature).
func Signature(p *i18n.Printer, v pdf.SignatureReport) (state string, lines []string) {
	return verdict.Signature(p, v)
}

// SourceDemo is the trust source of what only the demo CA vouches for
// (verdict.SourceDemo).
const SourceDemo = verdict.SourceDemo

// Summary says a document's signatures in one line (verdict.Summary).
func Summary(p *i18n.Printer, sigs []pdf.SignatureReport) (string, Severity) {
	return verdict.Summary(p, sigs)
}

// Who names a certificate's holder in words (verdict.Who).
func Who(p *i18n.Printer, c *x509.Certificate) string { return verdict.Who(p, c) }

// Activated says which certificate was activated and until when: a
// person's name, title, number and order, or a seal's organisation.
func Activated(p *i18n.Printer, c *x509.Certificate) string {
	until := p.Date(c.NotAfter.Local())
	if pdf.IsSeal(c) {
		return p.T("activate.done_seal", "Who", Who(p, c), "Until", until)
	}
	h := pkcs.HolderOf(c)
	return p.T("activate.done", "Name", h.Name, "Title", h.Title, "Member", h.MemberNumber, "Org", h.Organization, "Until", until)
}
