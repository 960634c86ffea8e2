package explain

import (
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/protocol"
)

// Field is one line of what a certificate carries: its label in the
// user's language, and its value.
type Field struct{ Label, Value string }

// RenewalDetails are the details a renewed certificate will carry, as the
// holder is asked to confirm them: a person's name, title, member number
// and order, or a seal's organisation, identifier and country; then the
// e-mail address. Empty ones are left out.
func RenewalDetails(p *i18n.Printer, d *protocol.RenewalDetails) []Field {
	all := []Field{{"details.name", d.Name}, {"details.title", d.Title}, {"details.member_number", d.MemberNumber},
		{"details.order", d.Organization}}
	if d.Seal {
		all = []Field{{"details.organization", d.Organization}, {"details.organization_id", d.OrganizationID}, {"details.country", d.Country}}
	}
	var out []Field
	for _, f := range append(all, Field{"details.email", d.Email}) {
		if f.Value != "" {
			out = append(out, Field{p.T(f.Label), f.Value})
		}
	}
	return out
}
