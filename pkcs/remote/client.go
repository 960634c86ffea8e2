package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// The wire: each CSC method is a POST of JSON to the CSC base URL, each
// account method a call to the account API's; refusals are
// protocol.CSCError, turned here into the errors callers branch on.

// ServerError is a refusal this package has no error of its own for,
// with the service's code and words.
type ServerError struct {
	Status      int
	Code        string // protocol.CSC… or protocol.Remote…
	Description string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("remote: the signing service refused (%d %s): %s", e.Status, e.Code, e.Description)
}

// auth is how a request is authenticated.
type auth struct {
	user, password string // HTTP Basic, when user is set
	bearer         string
}

// call sends in (JSON; nil for no body) to url with method, and decodes a
// 2xx reply into out (nil: none wanted).
func (s *Store) call(ctx context.Context, method, url string, a auth, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("remote: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case a.user != "":
		req.SetBasicAuth(a.user, a.password)
	case a.bearer != "":
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return &UnreachableError{Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &UnreachableError{Err: err}
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode/100 != 2 {
		var ce protocol.CSCError
		if ct == "application/json" && json.Unmarshal(data, &ce) == nil && ce.Error != "" {
			return refusal(resp.StatusCode, &ce)
		}
		return fmt.Errorf("%w: HTTP %s from %s", ErrMalformedReply, resp.Status, req.URL.Host)
	}
	if out == nil {
		return nil
	}
	if ct != "application/json" {
		return fmt.Errorf("%w: content type %q", ErrMalformedReply, ct)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedReply, err)
	}
	return nil
}

// refusal is the error a refusal of the service means.
func refusal(status int, ce *protocol.CSCError) error {
	left := -1
	if ce.AttemptsLeft != nil {
		left = *ce.AttemptsLeft
	}
	switch ce.Error {
	case protocol.RemotePasswordChange:
		return ErrPasswordChange
	case protocol.RemotePasswordRule:
		return passwordRule(ce.Description)
	case protocol.CSCAccessDenied:
		if strings.Contains(ce.Description, "refresh token") {
			return ErrNotSignedIn
		}
		return ErrWrongPassword
	case protocol.CSCInvalidToken:
		return ErrNotSignedIn
	case protocol.RemoteAccountLocked:
		return ErrAccountLocked
	case protocol.RemoteNotActivated:
		return ErrNotActivated
	case protocol.CSCInvalidPIN:
		return &pkcs.WrongPINError{Store: Name, TriesLeft: left}
	case protocol.RemotePINLocked:
		return &pkcs.LockedError{Store: Name}
	case protocol.CSCInvalidOTP:
		return &OTPError{TriesLeft: left}
	case protocol.RemoteInvalidPUK:
		return &PUKError{TriesLeft: left}
	case protocol.RemotePUKLocked:
		return ErrPUKLocked
	case protocol.RemotePINRule:
		return ErrPINRule
	case protocol.RemoteRenewalPending:
		return ErrRenewalPending
	}
	return &ServerError{Status: status, Code: ce.Error, Description: ce.Description}
}

// UnreachableError: the signing service did not answer (network, proxy,
// TLS); it matches ErrUnreachable and wraps the cause.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string {
	return "remote: the signing service cannot be reached: " + e.Err.Error()
}
func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// PasswordRuleError: a new password breaks Rule (config.PINError's
// names: too_short, need_upper…, and same_as_current); N is the number
// the rule is about.
type PasswordRuleError struct {
	Rule string
	N    int
}

func (e *PasswordRuleError) Error() string {
	return "remote: the new password breaks the rule " + e.Rule
}

// Password rules' numbers, as the service keeps them.
const (
	PasswordMin    = 8
	PasswordMax    = 64
	PasswordRepeat = 2
)

func passwordRule(rule string) *PasswordRuleError {
	e := &PasswordRuleError{Rule: rule}
	switch rule {
	case "too_short":
		e.N = PasswordMin
	case "too_long":
		e.N = PasswordMax
	case "repeat":
		e.N = PasswordRepeat
	}
	return e
}

// OTPError: a wrong or already used one-time password, with the tries
// left (-1: not said); it matches ErrWrongOTP.
type OTPError struct{ TriesLeft int }

func (e *OTPError) Error() string {
	if e.TriesLeft >= 0 {
		return fmt.Sprintf("remote: wrong one-time password (%d tries left)", e.TriesLeft)
	}
	return "remote: wrong one-time password"
}
func (e *OTPError) Is(target error) bool { return target == ErrWrongOTP }

// PUKError: a wrong PUK, with the tries left; it matches pkcs.ErrWrongPUK.
type PUKError struct{ TriesLeft int }

func (e *PUKError) Error() string {
	return fmt.Sprintf("remote: wrong PUK (%d tries left)", e.TriesLeft)
}
func (e *PUKError) Is(target error) bool { return target == pkcs.ErrWrongPUK }
