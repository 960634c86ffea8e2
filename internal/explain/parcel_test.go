package explain

import (
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/parcel"
)

// The exchange's end-to-end refusals come out in its own words, in each
// language, with the recipient-certificate exit code.
func TestExchangeEndToEndRefusals(t *testing.T) {
	for _, tc := range []struct {
		err  *parcel.ServerError
		lang string
		want string
	}{
		{&parcel.ServerError{Status: 400, Code: "input", Field: "document", Reason: "wrong_recipient"}, "en", "not encrypted to the recipient's registered certificate"},
		{&parcel.ServerError{Status: 400, Code: "input", Field: "end_to_end", Reason: "no_certificate"}, "fr", "aucun certificat de chiffrement"},
		{&parcel.ServerError{Status: 400, Code: "certificate", Reason: "revoked", Detail: "2026-11-30"}, "it", "revocato dal suo emittente (2026-11-30)"},
		{&parcel.ServerError{Status: 400, Code: "certificate", Reason: "revocation_unknown"}, "en", "cannot be checked now"},
		{&parcel.ServerError{Status: 400, Code: "certificate", Reason: "expired", Detail: "2026-12-01"}, "en", "validity ends on 2026-12-01"},
	} {
		m := Error(i18n.New(tc.lang), tc.err)
		if m.Code != ExitRecipientCert || !strings.Contains(m.Text, tc.want) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.err.Code, tc.err.Reason, m.Code, m.Text, ExitRecipientCert, tc.want)
		}
	}
}
