package ca

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// One-time passwords by SMS. A remote holder's one-time passwords are the
// codes of their authenticator app (TOTP, enrolled at activation). A CA
// may also send them by SMS, through Authority.SMS: Paraphe builds in no
// sender and no provider (an integrator who embeds package ca sets their
// own, over their provider's API). With none, credentials/sendOTP is
// refused and one-time passwords are TOTP only.
//
// A code sent is 6 digits, good once, for smsTTL, and only the last one
// sent: asking again replaces it. It goes to the mobile number given at
// enrolment (Holder.Phone), is sealed under remote.key as the TOTP key is,
// and is counted as a TOTP code is: a wrong one is a wrong one-time
// password (the policy's otp_tries).

// SMSSender delivers a text to a mobile number (international form,
// +393331234567). It returns once the provider has taken the message.
type SMSSender interface {
	SendSMS(ctx context.Context, phone, text string) error
}

// smsTTL is how long a code sent by SMS is good for.
const smsTTL = 5 * time.Minute

// EventRemoteOTPSent: a one-time password sent by SMS (details: the
// number's last digits); outcome accepted, or failed when the sender did.
const EventRemoteOTPSent = "remote.otp_sent"

var (
	errNoSMS = cscErr(http.StatusBadRequest, protocol.CSCInvalidRequest,
		"this service sends no one-time password by SMS: use the code of your authenticator app (TOTP)")
	errNoPhone = cscErr(http.StatusBadRequest, protocol.CSCInvalidRequest,
		"no mobile number is registered for this account: use the code of your authenticator app (TOTP)")
)

// SendRemoteOTP sends userID a one-time password by SMS for the
// credential (CSC credentials/sendOTP).
func (a *Authority) SendRemoteOTP(ctx context.Context, userID string, req protocol.CSCSendOTP) error {
	if a.SMS == nil {
		return errNoSMS
	}
	if _, err := a.credential(a.db, userID, req.CredentialID); err != nil {
		return err
	}
	code := newDigits(6)
	sealed, err := a.seal(smsSealID(userID), []byte(code))
	if err != nil {
		return err
	}
	var phone string
	err = a.db.tx(ctx, func(tx *dbTx) error {
		r, err := loadAccount(tx, userID)
		if err != nil {
			return err
		}
		switch {
		case r.state != remoteStateActive:
			return errNotActivated
		case r.phone == "":
			return errNoPhone
		}
		phone = r.phone
		if _, err := tx.Exec(`UPDATE remote_accounts SET sms_code = ?, sms_expires = ? WHERE user_id = ?`,
			sealed, a.clockNow().Add(smsTTL).Unix(), userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(EventRemoteOTPSent, userSubject(userID), map[string]string{"outcome": "accepted", "to": redactPhone(phone)})
	})
	if err != nil {
		return err
	}
	text := fmt.Sprintf("%s: your one-time password is %s, good for %d minutes. Nobody will ask you for it.", a.Config.Name, code, int(smsTTL/time.Minute))
	if err := a.SMS.SendSMS(ctx, phone, text); err != nil {
		return &RemoteError{Status: http.StatusBadGateway, Code: protocol.CSCServerError,
			Description: "the SMS could not be sent: try again, or use the code of your authenticator app (TOTP)"}
	}
	return nil
}

// smsSealID binds a sealed SMS code to its account, apart from its TOTP key.
func smsSealID(userID string) string { return userID + " sms" }

// smsRight reports whether code is the SMS code r holds, still good.
func (a *Authority) smsRight(r *remoteAccount, code string) bool {
	if !r.smsCode.Valid || r.smsExpires <= a.clockNow().Unix() || len(code) != 6 {
		return false
	}
	sent, err := a.unseal(smsSealID(r.userID), r.smsCode.String)
	return err == nil && subtle.ConstantTimeCompare(sent, []byte(code)) == 1
}

// redactPhone keeps a number's last two digits, for the audit trail.
func redactPhone(p string) string {
	if len(p) < 2 {
		return "…"
	}
	return "…" + p[len(p)-2:]
}

// validPhone reports whether p is a number in international form.
func validPhone(p string) bool {
	if len(p) < 8 || len(p) > 16 || p[0] != '+' || p[1] == '0' {
		return false
	}
	for _, c := range p[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
