package ca

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The CA operator's side of remote signing: the list of remote holders
// and where each stands (paraphe-ca remote list), and the unlock of an
// account (paraphe-ca remote unlock). A holder who has forgotten their
// password, or whose account is locked after too many wrong ones, calls
// the CA and reads out the emergency code of their activation envelope;
// the operator's unlock checks it (counted first, like every secret: a
// few wrong ones block it, and the holder is enrolled again), then sets a
// new initial password, which the operator gives the holder and which,
// like the envelope's, signs in nowhere until the holder changes it. The
// PIN, the PUK and the one-time-password app are untouched: a blocked PIN
// is the holder's to unlock with the PUK.

// EventRemoteAccountUnlocked: the operator's unlock, by the emergency
// code: outcome accepted, rejected, locked.
const EventRemoteAccountUnlocked = "remote.account_unlocked"

// Refusals of the operator's unlock (RemoteError.Code).
const (
	RemoteEmergencyWrong  = "invalid_emergency_code" // AttemptsLeft says the tries left
	RemoteEmergencyLocked = "emergency_code_locked"
)

// ErrNoRemoteHolder: no remote account has the user ID.
var ErrNoRemoteHolder = errNoAccount

var errEmergencyLocked = cscErr(http.StatusForbidden, RemoteEmergencyLocked,
	"the emergency code is blocked after too many wrong tries: enrol the holder again (paraphe-ca remote enroll)")

// RemoteHolder is a remote account as the operator sees it.
type RemoteHolder struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	State  string `json:"state"` // protocol.RemoteState…
	// AccountLocked: too many wrong passwords (paraphe-ca remote unlock).
	AccountLocked bool `json:"account_locked"`
	// PasswordToChange: the password is the envelope's or the operator's.
	PasswordToChange bool `json:"password_to_change"`
	PINBlocked       bool `json:"pin_blocked"` // the holder unlocks it with the PUK
	PUKBlocked       bool `json:"puk_blocked"`
	EmergencyBlocked bool `json:"emergency_blocked"`
	SMS              bool `json:"sms"` // a mobile number is registered
	// Serial and NotAfter are the holder's current certificate's.
	Serial   string    `json:"serial,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
	Created  time.Time `json:"created"`
}

// RemoteHolders lists the remote accounts, oldest first.
func (a *Authority) RemoteHolders(ctx context.Context) ([]RemoteHolder, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT r.user_id, h.name, h.organization, h.seal, r.state, r.password_temporary,
		r.password_failures, r.pin_failures, r.otp_failures, r.puk_failures, r.emergency_failures, r.phone, r.created,
		COALESCE((SELECT c.serial FROM certs c WHERE c.holder_id = h.id AND c.revoked IS NULL ORDER BY c.issued DESC, c.serial LIMIT 1), ''),
		COALESCE((SELECT c.not_after FROM certs c WHERE c.holder_id = h.id AND c.revoked IS NULL ORDER BY c.issued DESC, c.serial LIMIT 1), 0)
		FROM remote_accounts r JOIN holders h ON h.id = r.holder_id ORDER BY r.created, r.user_id`)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	defer rows.Close()
	p := a.Config.Remote
	var out []RemoteHolder
	for rows.Next() {
		var h RemoteHolder
		var org, phone string
		var seal bool
		var pw, pin, otp, puk, emergency int
		var created, notAfter int64
		if err := rows.Scan(&h.UserID, &h.Name, &org, &seal, &h.State, &h.PasswordToChange, &pw, &pin, &otp, &puk, &emergency,
			&phone, &created, &h.Serial, &notAfter); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		if seal {
			h.Name = org
		}
		h.PasswordToChange = h.PasswordToChange || h.State == remoteStatePassword
		h.AccountLocked, h.PUKBlocked = pw >= p.passwordTries(), puk >= p.pukTries()
		h.PINBlocked = pin >= p.pinTries() || otp >= p.otpTries()
		h.EmergencyBlocked, h.SMS = emergency >= p.emergencyTries(), phone != ""
		h.Created = time.Unix(created, 0).UTC()
		if notAfter > 0 {
			h.NotAfter = time.Unix(notAfter, 0).UTC()
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	return out, nil
}

// UnlockRemoteAccount checks the emergency code the holder of typedUser
// read out (counted first; dashes and spaces do not matter) and, when it
// is right, unlocks the account and returns its new initial password,
// to be changed at the next sign-in; every sign-in made before ends. A
// wrong code is a *RemoteError with RemoteEmergencyWrong and the tries
// left; a blocked one RemoteEmergencyLocked.
func (a *Authority) UnlockRemoteAccount(ctx context.Context, typedUser, emergencyCode string) (string, error) {
	userID := ParseUserID(typedUser)
	limit := a.Config.Remote.emergencyTries()
	r, err := a.reserve(ctx, userID, func(r *remoteAccount, n int) error {
		return tries(r.emergencyFailures, n, limit, errEmergencyLocked)
	})
	if err != nil {
		return "", err
	}
	right := false
	if err := a.hashed(ctx, userID, func() { right = checkSecret(r.emergencyHash, formatDigits(emergencyCode)) }); err != nil {
		return "", err
	}
	password := newPassword()
	phc := hashSecret(password)
	var refusal error
	err = a.finish(ctx, userID, func(tx *dbTx, r *remoteAccount) error {
		refusal = nil
		if !right {
			left := limit - r.emergencyFailures - 1
			refusal = cscErr(http.StatusBadRequest, RemoteEmergencyWrong, "the emergency code is wrong").withLeft(left)
			d := map[string]string{"outcome": "rejected", "attempts_left": strconv.Itoa(max(left, 0))}
			if left <= 0 {
				refusal, d["outcome"] = errEmergencyLocked.withLeft(0), "locked"
			}
			if _, err := tx.Exec(`UPDATE remote_accounts SET emergency_failures = emergency_failures + 1 WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			return tx.audit(EventRemoteAccountUnlocked, userSubject(userID), d)
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET password_hash = ?, password_temporary = 1, password_failures = 0, emergency_failures = 0
			WHERE user_id = ?`, phc, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM remote_tokens WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(EventRemoteAccountUnlocked, userSubject(userID), map[string]string{"outcome": "accepted", "password": "reset"})
	})
	if err != nil {
		return "", err
	}
	if refusal != nil {
		return "", refusal
	}
	return password, nil
}

// IsRemoteRefusal reports whether err is a refusal of remote signing
// with code, and its tries left (-1: not said).
func IsRemoteRefusal(err error, code string) (bool, int) {
	var e *RemoteError
	if !errors.As(err, &e) || e.Code != code {
		return false, -1
	}
	if e.AttemptsLeft == nil {
		return true, -1
	}
	return true, *e.AttemptsLeft
}
