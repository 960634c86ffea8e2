package ca

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// OfficerSession is a registration officer who logged in: what they may
// decide (renewals.go). The commands get one from LoginOfficer; the HTTP
// API from a bearer token (OfficerByToken).
type OfficerSession struct {
	Officer string
	a       *Authority
}

// as is ctx with the officer as the actor of what is done.
func (s *OfficerSession) as(ctx context.Context) context.Context {
	return WithActor(ctx, officerSubject(s.Officer))
}

// LoginOfficer checks an officer's password and one-time code. The
// attempt is counted before either is checked; a refusal is an
// *OfficerDeniedError, ErrOfficerLocked or ErrOfficerDisabled. Every
// attempt is in the audit trail: the actor is whoever ctx names (the
// operator, the client's address), the subject the officer.
func (a *Authority) LoginOfficer(ctx context.Context, name string, password []byte, code string) (*OfficerSession, error) {
	o, err := a.reserveLogin(ctx, name)
	if errors.Is(err, ErrUnknownOfficer) {
		a.hashedCheck(ctx, func() { checkSecret(dummyHash(), string(password)) })
		return nil, &OfficerDeniedError{AttemptsLeft: -1}
	}
	if err != nil {
		return nil, err
	}
	var passwordOK bool
	var step int64
	check := func() error {
		if err := a.hashedCheck(ctx, func() { passwordOK = checkSecret(o.password, string(password)) }); err != nil {
			return err
		}
		aead, err := a.officerCipher(false)
		if err != nil {
			return err
		}
		secret, err := openOfficerKey(aead, name, o.totp)
		if err != nil {
			return err
		}
		step = totpStep(secret, code, time.Now())
		return nil
	}
	if err := check(); err != nil {
		// Nothing was decided: the attempt is given back.
		if gerr := a.giveBackLogin(name); gerr != nil {
			return nil, gerr
		}
		return nil, err
	}
	// The outcome is recorded even if the client has gone: the check was made.
	return a.finishLogin(context.WithoutCancel(ctx), name, passwordOK, step)
}

// hashedCheck runs an Argon2id check in one of the bounded slots, unless
// ctx ends first. Officers' logins wait in the answers' line, first come
// first served, but are never turned away as busy: they are few, and
// each is counted against its account before it waits.
func (a *Authority) hashedCheck(ctx context.Context, check func()) error {
	release, err := a.answers.acquire(ctx, unboundedLine)
	if err != nil {
		return err
	}
	defer release()
	check()
	return nil
}

// reserveLogin counts a login of name as failed, and as under way, before
// it is checked, unless the account is locked or disabled (a refusal
// recorded in the audit trail), and returns the account.
func (a *Authority) reserveLogin(ctx context.Context, name string) (*officerRow, error) {
	var acc *officerRow
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		acc, refusal = nil, nil
		o, err := loadOfficer(tx, name)
		if errors.Is(err, ErrUnknownOfficer) {
			// The name is not recorded: it may be a password typed in
			// the wrong field.
			refusal = err
			return tx.audit(EventOfficerLoginFail, "officer", map[string]string{"outcome": "unknown_officer"})
		}
		if err != nil {
			return err
		}
		switch {
		case o.disabled.Valid:
			refusal = ErrOfficerDisabled
			return tx.audit(EventOfficerLoginFail, officerSubject(name), map[string]string{"outcome": "disabled"})
		case o.failures >= maxOfficerFailures:
			refusal = ErrOfficerLocked
			return tx.audit(EventOfficerLoginFail, officerSubject(name), map[string]string{"outcome": "locked"})
		}
		now := time.Now()
		if _, err := tx.Exec(`UPDATE officers SET failures = failures + 1, checking = ?, checking_at = ? WHERE name = ?`,
			o.underway(now)+1, now.Unix(), name); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		acc = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return acc, nil
}

// giveBackLogin gives back a login counted and never checked.
func (a *Authority) giveBackLogin(name string) error {
	return a.db.tx(context.Background(), func(tx *dbTx) error {
		if _, err := tx.Exec(`UPDATE officers SET failures = failures - 1, checking = checking - 1
			WHERE name = ? AND failures > 0 AND checking > 0`, name); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return nil
	})
}

// finishLogin records the outcome of a login reserveLogin counted: the
// password right or not, the time step of the code (0: wrong).
func (a *Authority) finishLogin(ctx context.Context, name string, passwordOK bool, step int64) (*OfficerSession, error) {
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		refusal = nil
		o, err := loadOfficer(tx, name)
		if err != nil {
			return err
		}
		now := time.Now()
		others := max(o.underway(now)-1, 0) // logins still being checked
		reused := step != 0 && step <= o.totpStep
		if passwordOK && step != 0 && !reused && !o.disabled.Valid {
			// The failures before this login are forgotten; the ones
			// under way still count until they are decided.
			if _, err := tx.Exec(`UPDATE officers SET failures = ?, checking = ?, totp_step = ?, last_login = ? WHERE name = ?`,
				others, others, step, now.Unix(), name); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			return tx.audit(EventOfficerLogin, officerSubject(name), nil)
		}
		if _, err := tx.Exec(`UPDATE officers SET checking = ? WHERE name = ?`, others, name); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		left := max(maxOfficerFailures-o.failures, 0)
		d := map[string]string{"outcome": "rejected", "attempts_left": strconv.Itoa(left)}
		switch {
		case o.disabled.Valid:
			d["outcome"], refusal = "disabled", ErrOfficerDisabled
		case left == 0:
			d["outcome"] = "locked"
		}
		d["password"], d["code"] = "right", "right"
		if !passwordOK {
			d["password"] = "wrong"
		}
		switch {
		case step == 0:
			d["code"] = "wrong"
		case reused:
			d["code"] = "reused"
		}
		if refusal == nil {
			refusal = &OfficerDeniedError{AttemptsLeft: left}
		}
		return tx.audit(EventOfficerLoginFail, officerSubject(name), d)
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return &OfficerSession{Officer: name, a: a}, nil
}

// ErrSessionExpired: the officer's session token is unknown or expired,
// or the officer was disabled since.
var ErrSessionExpired = errors.New("ca: the officer's session has expired")

func sessionHash(token string) string {
	sum := sha256.Sum256([]byte("paraphe officer session " + token))
	return hex.EncodeToString(sum[:])
}

// NewToken opens a session of the HTTP API for the officer: a bearer
// token good for protocol.OfficerSessionTTL, kept as its hash.
func (s *OfficerSession) NewToken(ctx context.Context) (*protocol.OfficerSession, error) {
	b := make([]byte, 32)
	rand.Read(b)
	now := time.Now()
	t := &protocol.OfficerSession{Officer: s.Officer, Token: base64.RawURLEncoding.EncodeToString(b),
		Expires: now.Add(protocol.OfficerSessionTTL).UTC().Truncate(time.Second)}
	err := s.a.db.tx(ctx, func(tx *dbTx) error {
		// The sessions that ended, whoever's, go.
		if _, err := tx.Exec(`DELETE FROM officer_sessions WHERE expires <= ?`, now.Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO officer_sessions(hash, officer, expires) VALUES (?,?,?)`,
			sessionHash(t.Token), s.Officer, t.Expires.Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// OfficerByToken is the session of a bearer token NewToken gave.
func (a *Authority) OfficerByToken(ctx context.Context, token string) (*OfficerSession, error) {
	if token == "" {
		return nil, ErrSessionExpired
	}
	var name string
	var expires int64
	err := a.db.QueryRowContext(ctx, `SELECT s.officer, s.expires FROM officer_sessions s JOIN officers o ON o.name = s.officer
		WHERE s.hash = ? AND o.disabled IS NULL`, sessionHash(token)).Scan(&name, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrSessionExpired
	case err != nil:
		return nil, fmt.Errorf("ca: database: %w", err)
	case expires <= time.Now().Unix():
		return nil, ErrSessionExpired
	}
	return &OfficerSession{Officer: name, a: a}, nil
}

// EndSession ends the session of a bearer token.
func (a *Authority) EndSession(ctx context.Context, token string) error {
	return a.db.tx(ctx, func(tx *dbTx) error {
		if _, err := tx.Exec(`DELETE FROM officer_sessions WHERE hash = ?`, sessionHash(token)); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return nil
	})
}
