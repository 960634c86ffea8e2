package ca

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// Signing in to remote signing (CSC auth/login): a user ID and password,
// or a refresh token. The answer is a bearer token good for an hour and,
// when asked (rememberMe), a refresh token good for 30 days, or until the
// password changes. Tokens are 256 random bits, kept as
// their SHA-256. The initial password signs in nowhere: it changes the
// password (ChangeRemotePassword), and nothing else.

// Events of remote signing in the audit trail.
const (
	EventRemoteLogin       = "remote.login"            // details: outcome accepted, rejected, locked, password_change_required
	EventRemotePassword    = "remote.password_changed" // details: outcome accepted, rejected
	EventRemoteActivation  = "remote.activation"       // the PUK and a new PIN: outcome otp_pending, rejected, puk_locked
	EventRemoteOTPEnrolled = "remote.otp_enrolled"     // the generator's first code: outcome accepted, rejected
	EventRemoteAuthorized  = "remote.authorized"       // credentials/authorize: outcome accepted, invalid_pin, invalid_otp, locked
	EventRemoteSigned      = "remote.signed"           // signatures/signHash: the hashes signed
	EventRemoteUnlocked    = "remote.unlocked"         // the PUK and a new PIN: outcome accepted, rejected, puk_locked
	EventRemotePINChanged  = "remote.pin_changed"      // outcome accepted, invalid_pin, invalid_otp, locked
)

// Lifetimes of remote signing's tokens.
const (
	accessTTL  = time.Hour
	refreshTTL = 30 * 24 * time.Hour
	sadTTL     = 5 * time.Minute
)

// RemoteLogin signs userID in with password; remember asks for a refresh
// token too. A refusal is a *RemoteError: wrong user ID or password (the
// same for both), account locked, password to change.
func (a *Authority) RemoteLogin(ctx context.Context, typedUser, password string, remember bool) (*protocol.CSCToken, error) {
	userID, err := a.checkPassword(ctx, typedUser, password, EventRemoteLogin, func(tx *dbTx, r *remoteAccount) error {
		if r.state == remoteStatePassword || r.passwordTemporary {
			return cscErr(http.StatusForbidden, protocol.RemotePasswordChange, "the initial password must be changed before anything else")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a.newTokens(ctx, userID, remember, "password")
}

// checkPassword checks a user's password, counted before it is checked
// (remote_checks.go), and records the outcome under event. then, when
// the password is right, decides in the same transaction whether it is
// good for what is asked: a refusal of its stays with the outcome (the
// event says it). It returns the user ID as the CA writes it.
func (a *Authority) checkPassword(ctx context.Context, typedUser, password, event string, then func(*dbTx, *remoteAccount) error) (string, error) {
	userID := ParseUserID(typedUser)
	locked := cscErr(http.StatusForbidden, protocol.RemoteAccountLocked, "the account is locked after too many wrong passwords: ask the CA to unlock it")
	r, err := a.reserve(ctx, userID, func(r *remoteAccount, n int) error {
		return tries(r.passwordFailures, n, a.Config.Remote.passwordTries(), locked)
	})
	if errors.Is(err, errNoAccount) {
		// As long as a check of a known account: nothing tells them apart.
		a.hashed(ctx, "", func() { checkSecret(dummyHash(), password) })
		return "", errAccessDenied
	}
	if err != nil {
		return "", err
	}
	right := false
	if err := a.hashed(ctx, userID, func() { right = checkSecret(r.passwordHash, password) }); err != nil {
		return "", err
	}
	var refusal error
	err = a.finish(ctx, userID, func(tx *dbTx, r *remoteAccount) error {
		refusal = nil
		d := map[string]string{"outcome": "accepted"}
		if !right {
			refusal = errAccessDenied
			d["outcome"] = "rejected"
			if r.passwordFailures+1 >= a.Config.Remote.passwordTries() {
				refusal, d["outcome"] = locked, "locked"
			}
			if _, err := tx.Exec(`UPDATE remote_accounts SET password_failures = password_failures + 1 WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			return tx.audit(event, userSubject(userID), d)
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET password_failures = 0 WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if e := then(tx, r); e != nil {
			var ce *RemoteError
			if !errors.As(e, &ce) {
				return e
			}
			refusal, d["outcome"] = e, ce.Code
		}
		return tx.audit(event, userSubject(userID), d)
	})
	if err != nil {
		return "", err
	}
	return userID, refusal
}

// RemoteRefresh signs in with a refresh token, which stays good until
// it expires (or the password changes): two processes of the holder's
// may use it at once.
func (a *Authority) RemoteRefresh(ctx context.Context, refresh string) (*protocol.CSCToken, error) {
	var userID string
	var expires int64
	err := a.db.QueryRowContext(ctx, `SELECT user_id, expires FROM remote_tokens WHERE hash = ? AND kind = 'refresh'`, tokenHash(refresh)).Scan(&userID, &expires)
	if err != nil || expires <= a.clockNow().Unix() {
		return nil, cscErr(http.StatusUnauthorized, protocol.CSCAccessDenied, "the refresh token is unknown or expired: sign in with the password")
	}
	return a.newTokens(ctx, userID, false, "refresh_token")
}

// newTokens issues a bearer token, and a refresh token when remember is
// set, to userID, signed in by how.
func (a *Authority) newTokens(ctx context.Context, userID string, remember bool, how string) (*protocol.CSCToken, error) {
	t := &protocol.CSCToken{AccessToken: newToken(), ExpiresIn: int(accessTTL / time.Second)}
	if remember {
		t.RefreshToken = newToken()
	}
	now := a.clockNow()
	err := a.db.tx(ctx, func(tx *dbTx) error {
		if _, err := tx.Exec(`DELETE FROM remote_tokens WHERE user_id = ? AND expires <= ?`, userID, now.Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO remote_tokens(hash, user_id, kind, expires) VALUES (?,?,?,?)`,
			tokenHash(t.AccessToken), userID, "access", now.Add(accessTTL).Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if remember {
			if _, err := tx.Exec(`INSERT INTO remote_tokens(hash, user_id, kind, expires) VALUES (?,?,?,?)`,
				tokenHash(t.RefreshToken), userID, "refresh", now.Add(refreshTTL).Unix()); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		if how == "refresh_token" { // a password's sign-in is recorded with its check
			return tx.audit(EventRemoteLogin, userSubject(userID), map[string]string{"outcome": "accepted", "by": how})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte("paraphe remote token " + tok))
	return hex.EncodeToString(sum[:])
}

// errBearer: no bearer token, or one unknown or expired.
var errBearer = cscErr(http.StatusUnauthorized, protocol.CSCInvalidToken, "the access token is missing, unknown or expired: sign in again (auth/login)")

// RemoteBearer returns the user a bearer token was issued to.
func (a *Authority) RemoteBearer(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", errBearer
	}
	var userID string
	var expires int64
	err := a.db.QueryRowContext(ctx, `SELECT user_id, expires FROM remote_tokens WHERE hash = ? AND kind = 'access'`, tokenHash(token)).Scan(&userID, &expires)
	if err != nil || expires <= a.clockNow().Unix() {
		return "", errBearer
	}
	return userID, nil
}

// ChangeRemotePassword changes userID's password, checked first: the
// initial one's change is what opens the account. Every token issued
// before ends.
func (a *Authority) ChangeRemotePassword(ctx context.Context, typedUser, current, newPassword string) error {
	rule := passwordRule(newPassword)
	if rule == "" && newPassword == current {
		rule = ruleSame
	}
	if rule != "" {
		return cscErr(http.StatusBadRequest, protocol.RemotePasswordRule, rule)
	}
	phc := hashSecret(newPassword)
	_, err := a.checkPassword(ctx, typedUser, current, EventRemotePassword, func(tx *dbTx, r *remoteAccount) error {
		state := r.state
		if state == remoteStatePassword {
			state = remoteStateActivation
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET password_hash = ?, state = ?, password_temporary = 0 WHERE user_id = ?`, phc, state, r.userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM remote_tokens WHERE user_id = ?`, r.userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return nil
	})
	return err
}

// RemoteAccountOf says where userID's account stands.
func (a *Authority) RemoteAccountOf(ctx context.Context, userID string) (*protocol.RemoteAccount, error) {
	r, err := loadAccount(a.db, userID)
	if err != nil {
		return nil, err
	}
	now := a.clockNow()
	p := a.Config.Remote
	n := r.underway(now)
	return &protocol.RemoteAccount{UserID: userID, State: r.state,
		PINTriesLeft: max(0, p.pinTries()-r.pinFailures-n), OTPTriesLeft: max(0, p.otpTries()-r.otpFailures-n),
		PUKTriesLeft: max(0, p.pukTries()-r.pukFailures-n)}, nil
}
