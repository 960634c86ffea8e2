package explain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs/remote"
)

// Remote signing's refusals in the holder's words, with their exit codes:
// a locked account says to call the CA with the envelope's emergency
// code; a CA without remote signing is named; each password rule has its
// own words.
func TestRemoteRefusalsInWords(t *testing.T) {
	for _, tc := range []struct {
		err        error
		code       int
		text, hint string
	}{
		{fmt.Errorf("login: %w", remote.ErrAccountLocked), explain.ExitRemoteLogin,
			"your remote signing account is locked after too many wrong passwords", "read out the emergency code of your activation envelope"},
		{&local.NoRemoteError{CA: "Camera di Commercio"}, explain.ExitNoRemote, "Camera di Commercio offers no remote signing", "contact your certification authority"},
		{&remote.PasswordRuleError{Rule: "repeat", N: 2}, explain.ExitRemotePassword, "must not repeat a character more than 2 times in a row", "never three identical in a row"},
		{&remote.OTPError{TriesLeft: 2}, explain.ExitWrongOTP, "(2 tries left)", ""},
	} {
		m := explain.Error(i18n.New("en"), tc.err)
		if m.Code != tc.code || !strings.Contains(m.Text, tc.text) || !strings.Contains(m.Hint, tc.hint) {
			t.Errorf("%v: %d %q, hint %q", tc.err, m.Code, m.Text, m.Hint)
		}
	}
	if m := explain.Error(i18n.New("fr"), remote.ErrAccountLocked); !strings.Contains(m.Hint, "code d'urgence de votre enveloppe d'activation\u202f: elle déverrouille") {
		t.Errorf("in French: %q", m.Hint)
	}
}
