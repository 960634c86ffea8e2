package ca

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// A remote holder's secrets are checked the way answers are (Answer):
// the check is counted in the database before it is made, so that an
// attacker cannot get an answer that was not counted, whatever the
// requests in parallel or the replicas. checks counts the checks under
// way; a check under way counts as a wrong one against every limit until
// its outcome is recorded (then a wrong one stays counted, a right one
// resets its counter: the limits are of wrong tries in a row). A server
// that stops in the middle of a check leaves it counted for checkWindow
// at most.

// checkWindow bounds how long a check begun and never finished counts.
const checkWindow = time.Minute

// RemoteError is a refusal of remote signing (the CSC API and the
// account API), sent as protocol.CSCError with Status.
type RemoteError struct {
	Status       int
	Code         string // protocol.CSC… or protocol.Remote…
	Description  string
	AttemptsLeft *int // for a wrong secret: the tries left
	RetryAfter   time.Duration
}

func (e *RemoteError) Error() string { return "ca: " + e.Description }

func cscErr(status int, code, desc string) *RemoteError {
	return &RemoteError{Status: status, Code: code, Description: desc}
}

func badRequest(desc string) *RemoteError {
	return cscErr(http.StatusBadRequest, protocol.CSCInvalidRequest, desc)
}

// withLeft is a copy of e saying how many tries are left (e, often a
// shared refusal, is left as it is).
func (e *RemoteError) withLeft(n int) *RemoteError {
	n = max(n, 0)
	c := *e
	c.AttemptsLeft = &n
	return &c
}

var (
	errAccessDenied = cscErr(http.StatusUnauthorized, protocol.CSCAccessDenied, "wrong user ID or password")
	errBusy         = &RemoteError{Status: http.StatusTooManyRequests, Code: protocol.CSCInvalidRequest,
		Description: "other checks of this account's secrets are under way: try again in a moment", RetryAfter: 5 * time.Second}
)

// underway is how many checks of r's secrets are being made now.
func (r *remoteAccount) underway(now time.Time) int {
	if r.checksAt > now.Add(-checkWindow).Unix() {
		return max(r.checks, 0)
	}
	return 0
}

// tries says whether one more check may be made against a limit of max
// wrong tries, with failures wrong ones so far and n checks under way:
// nil, locked when the failures alone reach it, errBusy otherwise.
func tries(failures, n, max int, locked *RemoteError) error {
	switch {
	case failures >= max:
		return locked
	case failures+n >= max:
		return errBusy
	}
	return nil
}

// reserve counts a check of the secrets of userID's account before it is
// made, when limit (given the account and the checks under way) allows
// it, and returns the account as it was. A refusal is limit's error.
func (a *Authority) reserve(ctx context.Context, userID string, limit func(r *remoteAccount, n int) error) (*remoteAccount, error) {
	var acc *remoteAccount
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		acc, refusal = nil, nil
		r, err := loadAccount(tx, userID)
		if err != nil {
			return err
		}
		now := a.clockNow()
		n := r.underway(now)
		if refusal = limit(r, n); refusal != nil {
			return nil
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET checks = ?, checks_at = ? WHERE user_id = ?`, n+1, now.Unix(), userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		acc = r
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

// finish ends a check reserve counted: decide, given the account as it is
// now, records the outcome in the same transaction. It runs even when the
// client has gone: the check was made.
func (a *Authority) finish(ctx context.Context, userID string, decide func(tx *dbTx, r *remoteAccount) error) error {
	return a.db.tx(context.WithoutCancel(ctx), func(tx *dbTx) error {
		r, err := loadAccount(tx, userID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE remote_accounts SET checks = checks - 1 WHERE user_id = ? AND checks > 0`, userID); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if decide == nil {
			return nil
		}
		return decide(tx, r)
	})
}

// hashed runs check (Argon2id) in one of the bounded slots, unless ctx
// ends first: then the check reserved for userID is given back. Remote
// holders wait in the answers' line like officers' logins, never turned
// away as busy: each check is counted against its account before it waits.
func (a *Authority) hashed(ctx context.Context, userID string, check func()) error {
	release, err := a.answers.acquire(ctx, unboundedLine)
	if err != nil {
		if ferr := a.finish(ctx, userID, nil); ferr != nil {
			return ferr
		}
		return err
	}
	defer release()
	check()
	return nil
}
