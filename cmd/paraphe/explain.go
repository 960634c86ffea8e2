package main

import (
	"errors"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/cli"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// explain turns an error from the packages below into a message in the
// user's language, the next step, and the exit code.
func (a *app) explain(err error) error {
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return err
	}
	p := a.p
	e := func(code int, msg, hint string) error {
		return &cli.ExitError{Code: code, Message: msg, Hint: hint, Err: err}
	}
	var se *activation.ServerError
	var anchor *config.AnchorError
	var fe *config.FieldError
	var pe *config.PINError
	var wp *pkcs.WrongPINError
	switch {
	case errors.As(err, &se):
		left := -1
		if se.AttemptsLeft != nil {
			left = *se.AttemptsLeft
		}
		switch se.Code {
		case protocol.CodeUnknownReference:
			return e(exitUnknownRef, p.T("err.unknown_ref"), p.T("hint.check_ref"))
		case protocol.CodeExpired:
			return e(exitExpiredRef, p.T("err.expired_ref"), p.T("hint.new_ref"))
		case protocol.CodeLocked:
			if left == 0 {
				return e(exitLockedRef, p.T("err.locked_now"), p.T("hint.new_ref"))
			}
			return e(exitLockedRef, p.T("err.locked_ref"), p.T("hint.new_ref"))
		case protocol.CodeUsed:
			return e(exitUsedRef, p.T("err.used_ref"), p.T("hint.used_ref"))
		case protocol.CodeWrongAnswers:
			return e(exitWrongAnswers, p.T("err.wrong_answers", "Left", left), p.T("hint.wrong_answers"))
		case protocol.CodeAuthExpired:
			return e(exitExpiredRef, p.T("err.auth_expired"), p.T("hint.retry"))
		}
		return e(exitBadReply, p.T("err.refused", "Message", se.Message), p.T("hint.network"))
	case errors.As(err, &anchor):
		return e(exitTLSAnchor, p.T("err.tls_anchor", "Host", anchor.Host, "Issuer", anchor.Issuer), p.T("hint.tls_anchor"))
	case errors.Is(err, activation.ErrWrongCA):
		return e(exitTLSAnchor, p.T("err.wrong_ca"), p.T("hint.ask_it"))
	case errors.Is(err, activation.ErrUnreachable):
		return e(exitUnreachable, p.T("err.unreachable"), p.T("hint.network"))
	case errors.Is(err, activation.ErrMalformedReply):
		return e(exitBadReply, p.T("err.bad_reply"), p.T("hint.network"))
	case errors.Is(err, config.ErrNoPolicy):
		return e(exitNoPolicy, p.T("err.no_policy", "Path", config.PolicyPath()), p.T("hint.no_policy"))
	case errors.As(err, &fe):
		return e(exitNoPolicy, p.T("err.bad_policy", "Path", fe.Path, "Field", fe.Field, "Reason", p.T("policy."+fe.Reason), "Detail", fe.Detail), p.T("hint.ask_it"))
	case errors.As(err, &pe):
		return e(exitPINPolicy, p.T("pin."+pe.Rule, "N", pe.N), "")
	case errors.Is(err, errPINMismatch):
		return e(exitPINPolicy, p.T("err.pin_mismatch"), "")
	case errors.Is(err, protocol.ErrRefCheck):
		return e(exitUnknownRef, p.T("err.ref_check"), p.T("hint.check_ref"))
	case errors.Is(err, protocol.ErrRefFormat):
		return e(exitUnknownRef, p.T("err.ref_format"), p.T("hint.check_ref"))
	case errors.Is(err, pkcs.ErrKeychainUnavailable):
		return e(exitKeychain, p.T("err.keychain"), p.T("hint.keychain"))
	case errors.As(err, &wp):
		if wp.TriesLeft == 0 {
			return e(exitPINLocked, p.T("err.pin_locked"), p.T("hint.pin_locked"))
		}
		return e(exitWrongPIN, p.T("err.wrong_pin", "Left", wp.TriesLeft), "")
	case errors.Is(err, pkcs.ErrLocked):
		return e(exitPINLocked, p.T("err.pin_locked"), p.T("hint.pin_locked"))
	}
	return e(exitError, err.Error(), "")
}
