package ca

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/paraphe/paraphe/protocol"
)

// The credential's life: activation with the PUK (a new PIN of 8
// digits, then a TOTP generator, confirmed by its first code), the PIN
// and one-time password that authorise signatures and PIN changes, and
// unlocking with the PUK after too many wrong ones.

var (
	errPINRule      = cscErr(http.StatusBadRequest, protocol.RemotePINRule, "the new PIN must be exactly 8 digits")
	errNotActivated = cscErr(http.StatusForbidden, protocol.RemoteNotActivated, "the credential is not activated yet: activate it with the PUK, a new PIN and a one-time-password generator")
	errPUKLocked    = cscErr(http.StatusForbidden, protocol.RemotePUKLocked, "the PUK is blocked after too many wrong tries: ask the CA for a new enrolment")
	errPINLocked    = cscErr(http.StatusForbidden, protocol.RemotePINLocked, "the PIN is blocked after too many wrong PINs or one-time passwords: unlock it with the PUK")
)

func remoteStateErr(want string) *RemoteError {
	return cscErr(http.StatusConflict, protocol.RemoteInvalidState, "the account is not at that step (it is at "+want+")")
}

// ActivateRemote checks the PUK and sets the new PIN, then makes the
// holder's TOTP key, which they enrol in their generator: the account
// waits for its first code (ConfirmRemoteOTP). Asked again before that
// code, it makes a new key.
func (a *Authority) ActivateRemote(ctx context.Context, userID, puk, newPIN string) (*protocol.RemoteOTPSetup, error) {
	if !validPIN(newPIN) {
		return nil, errPINRule
	}
	key, err := newTOTP(a.Config.Name, userID)
	if err != nil {
		return nil, err
	}
	sealed, err := a.seal(userID, []byte(key.Secret()))
	if err != nil {
		return nil, err
	}
	pinHash := hashSecret(newPIN)
	err = a.checkPUK(ctx, userID, puk, EventRemoteActivation, "otp_pending", func(r *remoteAccount) error {
		if r.state != remoteStateActivation && r.state != remoteStateOTP {
			return remoteStateErr(r.state)
		}
		return nil
	}, func(tx *dbTx) error {
		_, err := tx.Exec(`UPDATE remote_accounts SET state = ?, pin_hash = ?, pin_failures = 0, otp_failures = 0, otp_key = ? WHERE user_id = ?`,
			remoteStateOTP, pinHash, sealed, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &protocol.RemoteOTPSetup{URI: key.URL(), Secret: key.Secret()}, nil
}

// UnlockRemote checks the PUK and sets a new PIN: the wrong PINs and
// one-time passwords counted so far are forgotten.
func (a *Authority) UnlockRemote(ctx context.Context, userID, puk, newPIN string) error {
	if !validPIN(newPIN) {
		return errPINRule
	}
	pinHash := hashSecret(newPIN)
	return a.checkPUK(ctx, userID, puk, EventRemoteUnlocked, "accepted", func(r *remoteAccount) error {
		if r.state != remoteStateActive && r.state != remoteStateOTP {
			return errNotActivated
		}
		return nil
	}, func(tx *dbTx) error {
		_, err := tx.Exec(`UPDATE remote_accounts SET pin_hash = ?, pin_failures = 0, otp_failures = 0 WHERE user_id = ?`, pinHash, userID)
		return err
	})
}

// checkPUK checks the PUK of userID's account, counted first, when
// allowed says the account may; when it is right, apply changes the
// account in the transaction that records the outcome (ok) under event.
func (a *Authority) checkPUK(ctx context.Context, userID, puk, event, ok string, allowed func(*remoteAccount) error, apply func(*dbTx) error) error {
	pukTries := a.Config.Remote.pukTries()
	r, err := a.reserve(ctx, userID, func(r *remoteAccount, n int) error {
		if err := allowed(r); err != nil {
			return err
		}
		return tries(r.pukFailures, n, pukTries, errPUKLocked)
	})
	if err != nil {
		return err
	}
	right := false
	if err := a.hashed(ctx, userID, func() { right = checkSecret(r.pukHash, puk) }); err != nil {
		return err
	}
	var refusal error
	err = a.finish(ctx, userID, func(tx *dbTx, r *remoteAccount) error {
		refusal = nil
		d := map[string]string{"outcome": ok}
		if !right {
			left := pukTries - r.pukFailures - 1
			refusal = cscErr(http.StatusBadRequest, protocol.RemoteInvalidPUK, "the PUK is wrong").withLeft(left)
			d["outcome"], d["attempts_left"] = "rejected", strconv.Itoa(max(left, 0))
			if left <= 0 {
				refusal, d["outcome"] = errPUKLocked.withLeft(0), "puk_locked"
			}
			if _, err := tx.Exec(`UPDATE remote_accounts SET puk_failures = puk_failures + 1 WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			return tx.audit(event, userSubject(userID), d)
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET puk_failures = 0 WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if err := apply(tx); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(event, userSubject(userID), d)
	})
	if err != nil {
		return err
	}
	return refusal
}

// ConfirmRemoteOTP checks the generator's first code: the credential is
// then active.
func (a *Authority) ConfirmRemoteOTP(ctx context.Context, userID, code string) error {
	otpTries := a.Config.Remote.otpTries()
	r, err := a.reserve(ctx, userID, func(r *remoteAccount, n int) error {
		if r.state != remoteStateOTP {
			return remoteStateErr(r.state)
		}
		return tries(r.otpFailures, n, otpTries, errPINLocked)
	})
	if err != nil {
		return err
	}
	secret, err := a.unseal(userID, r.otpKey.String)
	if err != nil {
		a.finish(ctx, userID, nil)
		return err
	}
	step := totpStep(string(secret), code, a.clockNow())
	var refusal error
	err = a.finish(ctx, userID, func(tx *dbTx, r *remoteAccount) error {
		refusal = nil
		if step == 0 || step <= r.otpLastStep {
			left := otpTries - r.otpFailures - 1
			refusal = cscErr(http.StatusBadRequest, protocol.CSCInvalidOTP, "the one-time password is wrong, or was used already").withLeft(left)
			if _, err := tx.Exec(`UPDATE remote_accounts SET otp_failures = otp_failures + 1 WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			return tx.audit(EventRemoteOTPEnrolled, userSubject(userID), map[string]string{"outcome": "rejected", "attempts_left": strconv.Itoa(max(left, 0))})
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET state = ?, otp_failures = 0, otp_last_step = ? WHERE user_id = ?`,
			remoteStateActive, step, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(EventRemoteOTPEnrolled, userSubject(userID), map[string]string{"outcome": "accepted"})
	})
	if err != nil {
		return err
	}
	return refusal
}

// factors checks a PIN and a one-time password of userID's active
// account, counted first. When both are right, apply runs in the
// transaction that records the outcome under event (with details);
// otherwise the refusal says which was wrong (the PIN first) and the
// tries left. An OTP that matched is spent whatever the PIN.
func (a *Authority) factors(ctx context.Context, userID, pin, code, event string, details map[string]string, apply func(*dbTx) error) error {
	p := a.Config.Remote
	r, err := a.reserve(ctx, userID, func(r *remoteAccount, n int) error {
		if r.state != remoteStateActive {
			return errNotActivated
		}
		if err := tries(r.pinFailures, n, p.pinTries(), errPINLocked); err != nil {
			return err
		}
		return tries(r.otpFailures, n, p.otpTries(), errPINLocked)
	})
	if err != nil {
		return err
	}
	secret, err := a.unseal(userID, r.otpKey.String)
	if err != nil {
		a.finish(ctx, userID, nil)
		return err
	}
	pinRight := false
	if err := a.hashed(ctx, userID, func() { pinRight = checkSecret(r.pinHash, pin) }); err != nil {
		return err
	}
	step := totpStep(string(secret), code, a.clockNow())
	sms := a.smsRight(r, code)
	var refusal error
	err = a.finish(ctx, userID, func(tx *dbTx, r *remoteAccount) error {
		refusal = nil
		// The SMS code matched is still the one sent, and unspent.
		smsNow := sms && a.smsRight(r, code)
		otpRight := step != 0 && step > r.otpLastStep || smsNow
		spent := step // the TOTP step spent, none for a code sent by SMS
		if smsNow {
			spent = 0
			if _, err := tx.Exec(`UPDATE remote_accounts SET sms_code = NULL, sms_expires = 0 WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		refusal = a.factorsRefusal(r, pinRight, otpRight)
		d := map[string]string{"outcome": "accepted"}
		for k, v := range details {
			d[k] = v
		}
		if refusal != nil {
			var ce *RemoteError
			errors.As(refusal, &ce)
			d["outcome"] = ce.Code
			if ce.AttemptsLeft != nil {
				d["attempts_left"] = strconv.Itoa(*ce.AttemptsLeft)
			}
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET pin_failures = CASE WHEN ? THEN 0 ELSE pin_failures + 1 END,
			otp_failures = CASE WHEN ? THEN 0 ELSE otp_failures + 1 END,
			otp_last_step = CASE WHEN ? THEN ? ELSE otp_last_step END WHERE user_id = ?`,
			pinRight, otpRight, otpRight && spent != 0, spent, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if refusal == nil {
			if err := apply(tx); err != nil {
				return err
			}
		}
		return tx.audit(event, userSubject(userID), d)
	})
	if err != nil {
		return err
	}
	return refusal
}

// factorsRefusal is what a wrong PIN or one-time password is told, given
// the account before this try is counted.
func (a *Authority) factorsRefusal(r *remoteAccount, pinRight, otpRight bool) error {
	p := a.Config.Remote
	pinLeft, otpLeft := p.pinTries()-r.pinFailures-1, p.otpTries()-r.otpFailures-1
	switch {
	case !pinRight && pinLeft <= 0, pinRight && !otpRight && otpLeft <= 0:
		return cscErr(http.StatusForbidden, protocol.RemotePINLocked,
			"wrong PIN or one-time password, and too many: the PIN is now blocked (unlock it with the PUK)").withLeft(0)
	case !pinRight:
		return cscErr(http.StatusBadRequest, protocol.CSCInvalidPIN, "the PIN is wrong").withLeft(pinLeft)
	case !otpRight:
		return cscErr(http.StatusBadRequest, protocol.CSCInvalidOTP, "the one-time password is wrong, or was used already").withLeft(otpLeft)
	}
	return nil
}

// ChangeRemotePIN sets a new PIN, authorised by the current one and a
// one-time password.
func (a *Authority) ChangeRemotePIN(ctx context.Context, userID, pin, code, newPIN string) error {
	if !validPIN(newPIN) {
		return errPINRule
	}
	pinHash := hashSecret(newPIN)
	return a.factors(ctx, userID, pin, code, EventRemotePINChanged, nil, func(tx *dbTx) error {
		if _, err := tx.Exec(`UPDATE remote_accounts SET pin_hash = ? WHERE user_id = ?`, pinHash, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return nil
	})
}
