package ca_test

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/protocol"
)

// smsRecorder is an SMS sender that keeps what it is given: Paraphe
// builds in no provider, so there is no real one to test against.
type smsRecorder struct {
	mu   sync.Mutex
	sent []struct{ phone, text string }
	fail error
}

func (s *smsRecorder) SendSMS(_ context.Context, phone, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.sent = append(s.sent, struct{ phone, text string }{phone, text})
	return nil
}

// last is the code of the last SMS, sent to phone.
func (s *smsRecorder) last(t *testing.T, phone string) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sent) == 0 || s.sent[len(s.sent)-1].phone != phone {
		t.Fatalf("no SMS to %s: %+v", phone, s.sent)
	}
	m := regexp.MustCompile(`one-time password is ([0-9]{6}),`).FindStringSubmatch(s.sent[len(s.sent)-1].text)
	if m == nil {
		t.Fatalf("no code in the SMS %q", s.sent[len(s.sent)-1].text)
	}
	return m[1]
}

// With no SMS sender, one-time passwords are TOTP only: sendOTP is
// refused and the app's codes authorise. With one, the holder's mobile
// number gets a code that authorises once, only the last one sent, and
// never after it expires; a wrong one counts as a wrong one-time
// password; a holder without a number is told to use their app.
func TestRemoteOTPBySMS(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{})
	rec := remoteHolder()
	rec.Phone = "+393331234567"
	h := enrolActiveAs(t, a, clock, rec)
	ctx := context.Background()
	send := func() error { return a.SendRemoteOTP(ctx, h.UserID, protocol.CSCSendOTP{CredentialID: h.Serial}) }

	if err := send(); codeOf(err) != protocol.CSCInvalidRequest || description(err) != "this service sends no one-time password by SMS: use the code of your authenticator app (TOTP)" {
		t.Fatalf("sendOTP without a sender: %v", err)
	}
	if _, err := h.authorize(a, h.pin, h.otp(t, clock), sha("TOTP only")); err != nil {
		t.Fatalf("a TOTP code without a sender: %v", err)
	}

	sms := &smsRecorder{}
	a.SMS = sms
	if err := send(); err != nil {
		t.Fatal(err)
	}
	first := sms.last(t, rec.Phone)
	if err := send(); err != nil {
		t.Fatal(err)
	}
	code := sms.last(t, rec.Phone)
	if code != first {
		if _, err := h.authorize(a, h.pin, first, sha("a")); codeOf(err) != protocol.CSCInvalidOTP || left(err) != 4 {
			t.Fatalf("a code sent before the last one: %v", err)
		}
	}
	if _, err := h.authorize(a, h.pin, code, sha("b")); err != nil {
		t.Fatalf("the code sent by SMS: %v", err)
	}
	if _, err := h.authorize(a, h.pin, code, sha("c")); codeOf(err) != protocol.CSCInvalidOTP {
		t.Fatalf("the code sent by SMS, a second time: %v", err)
	}
	if err := send(); err != nil {
		t.Fatal(err)
	}
	code = sms.last(t, rec.Phone)
	for range 10 { // past its five minutes
		clock.next()
	}
	if _, err := h.authorize(a, h.pin, code, sha("d")); codeOf(err) != protocol.CSCInvalidOTP {
		t.Fatalf("a code sent by SMS, expired: %v", err)
	}
	if _, err := h.authorize(a, h.pin, h.otp(t, clock), sha("e")); err != nil {
		t.Fatalf("a TOTP code beside the sender: %v", err)
	}

	sms.fail = errors.New("provider down")
	if err := send(); codeOf(err) != protocol.CSCServerError {
		t.Fatalf("a sender that fails: %v", err)
	}
	other := enrolActiveAs(t, a, clock, ca.Holder{Name: "Marco Bianchi", Title: "Notaio", MemberNumber: "RM-0908", Organization: "Consiglio Notarile di Roma"})
	err := a.SendRemoteOTP(ctx, other.UserID, protocol.CSCSendOTP{CredentialID: other.Serial})
	if description(err) != "no mobile number is registered for this account: use the code of your authenticator app (TOTP)" {
		t.Fatalf("sendOTP to a holder without a number: %v", err)
	}
	if _, err := a.Enroll(ctx, ca.Holder{Name: "Anna Rossi", Title: "Avvocato", MemberNumber: "RM-1", Organization: "Ordine", Phone: "+39333"}); err == nil {
		t.Error("a holder who is not remote enrolled with a phone number")
	}
	if _, err := a.EnrollRemote(ctx, ca.Holder{Name: "Anna Rossi", Title: "Avvocato", MemberNumber: "RM-1", Organization: "Ordine", Phone: "333 1234567"}, nil); err == nil {
		t.Error("a remote holder enrolled with a number not in international form")
	}
}
