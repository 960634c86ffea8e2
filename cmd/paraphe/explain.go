package main

import (
	"errors"
	"io"
	"io/fs"
	"strings"

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
	var (
		se     *activation.ServerError
		anchor *config.AnchorError
		certE  *config.CertificateError
		fe     *config.FieldError
		pe     *config.PINError
		wp     *pkcs.WrongPINError
		locked *pkcs.LockedError
		amb    *pkcs.AmbiguousTokenError
		pathE  *fs.PathError
	)
	switch {
	case errors.As(err, &se):
		return a.explainRefusal(se, err)
	case errors.As(err, &anchor):
		return e(exitTLSAnchor, p.T("err.tls_anchor", "Host", anchor.Host, "Issuer", anchor.Issuer), p.T("hint.tls_anchor"))
	case errors.As(err, &certE) && certE.Reason == config.CertExpired:
		return e(exitTLSAnchor, p.T("err.ca_cert_expired", "Host", certE.Host), p.T("hint.clock"))
	case errors.As(err, &certE):
		return e(exitTLSAnchor, p.T("err.ca_cert_name", "Host", certE.Host), p.T("hint.ask_it"))
	case errors.Is(err, activation.ErrWrongCA):
		return e(exitTLSAnchor, p.T("err.wrong_ca"), p.T("hint.ask_it"))
	case errors.Is(err, activation.ErrUnreachable):
		return e(exitUnreachable, p.T("err.unreachable"), p.T("hint.network"))
	case errors.Is(err, activation.ErrMalformedReply):
		return e(exitBadReply, p.T("err.bad_reply"), p.T("hint.network"))
	case errors.Is(err, config.ErrUnconfigured):
		return e(exitUnconfigured, p.T("err.unconfigured", "Path", config.PolicyPath()), p.T("hint.unconfigured"))
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
	case errors.As(err, &locked), errors.As(err, &wp) && wp.TriesLeft == 0:
		if (locked != nil && locked.Store == "pkcs11") || (wp != nil && wp.Store == "pkcs11") {
			return e(exitPINLocked, p.T("err.token_locked"), p.T("hint.token_locked"))
		}
		return e(exitPINLocked, p.T("err.pin_locked"), p.T("hint.pin_locked"))
	case errors.As(err, &wp) && wp.TriesLeft > 0:
		return e(exitWrongPIN, p.T("err.wrong_pin", "Left", wp.TriesLeft), "")
	case errors.As(err, &wp) && wp.Low:
		return e(exitWrongPIN, p.T("err.wrong_pin_low"), p.T("hint.wrong_pin_low"))
	case errors.As(err, &wp):
		return e(exitWrongPIN, p.T("err.wrong_pin_unknown"), "")
	case errors.Is(err, pkcs.ErrWrongPUK):
		return e(exitWrongPUK, p.T("err.wrong_puk"), p.T("hint.wrong_puk"))
	case errors.Is(err, pkcs.ErrPUKLocked):
		return e(exitWrongPUK, p.T("err.puk_locked"), p.T("hint.puk_locked"))
	case errors.Is(err, pkcs.ErrNoPKCS11):
		return e(exitStoreDisabled, p.T("err.no_pkcs11"), p.T("hint.use_keychain"))
	case errors.Is(err, pkcs.ErrModule):
		return e(exitToken, p.T("err.module"), p.T("hint.module"))
	case errors.As(err, &amb):
		var names []string
		for _, t := range amb.Tokens {
			names = append(names, t.Label)
		}
		return e(exitUsage, p.T("err.tokens_ambiguous", "Tokens", strings.Join(names, ", ")), p.T("hint.tokens_ambiguous"))
	case errors.Is(err, pkcs.ErrNoToken):
		return e(exitToken, p.T("err.no_token"), p.T("hint.no_token"))
	case errors.Is(err, pkcs.ErrTokenRemoved):
		return e(exitToken, p.T("err.token_removed"), p.T("hint.token_removed"))
	case errors.Is(err, errNoCert):
		return e(exitNoCert, p.T("err.no_cert"), p.T("hint.no_cert"))
	case errors.Is(err, errUnknownCert):
		return e(exitNoCert, p.T("err.unknown_cert"), p.T("hint.certs"))
	case errors.Is(err, errWhichCert):
		return e(exitNoCert, p.T("err.which_cert"), p.T("hint.certs"))
	case errors.Is(err, pkcs.ErrNotFound):
		return e(exitNoCert, p.T("err.unknown_cert"), p.T("hint.certs"))
	case errors.Is(err, io.EOF):
		return e(exitUsage, p.T("err.eof"), p.T("hint.eof"))
	case errors.As(err, &pathE):
		return e(exitUsage, p.T("err.read_file", "File", pathE.Path), "")
	}
	return e(exitError, err.Error(), "")
}

// explainRefusal says what a refusal by the CA means for the holder.
func (a *app) explainRefusal(se *activation.ServerError, err error) error {
	p := a.p
	e := func(code int, msg, hint string) error {
		return &cli.ExitError{Code: code, Message: msg, Hint: hint, Err: err}
	}
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
	case protocol.CodeUnauthorized:
		return e(exitRefused, p.T("err.unauthorized"), p.T("hint.retry"))
	case protocol.CodeRevoked:
		return e(exitRefused, p.T("err.revoked"), p.T("hint.new_ref"))
	case protocol.CodeAlreadyRenewed:
		return e(exitRefused, p.T("err.already_renewed"), p.T("hint.certs"))
	case protocol.CodeCouponRequired:
		return e(exitRefused, p.T("err.coupon_required"), p.T("hint.coupon"))
	case protocol.CodeCouponInvalid:
		return e(exitRefused, p.T("err.coupon_invalid"), p.T("hint.coupon"))
	case protocol.CodeInternal:
		return e(exitRefused, p.T("err.ca_internal"), p.T("hint.later"))
	}
	return e(exitRefused, p.T("err.refused", "Message", se.Message), p.T("hint.ask_ca"))
}
