package explain

import (
	"errors"

	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
)

// remoteSigning says remote signing's errors: the account, its
// password, the one-time passwords, the PUK, the service's refusals.
func remoteSigning(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	var (
		rule   *remote.PasswordRuleError
		otp    *remote.OTPError
		puk    *remote.PUKError
		locked *pkcs.LockedError
		se     *remote.ServerError
		none   *local.NoRemoteError
	)
	switch {
	case errors.As(err, &none):
		return e(ExitNoRemote, p.T("err.no_remote", "CA", none.CA), p.T("hint.remote_ask_ca")), true
	case errors.Is(err, remote.ErrNotSignedIn):
		return e(ExitRemoteLogin, p.T("err.remote_not_signed_in"), p.T("hint.remote_login")), true
	case errors.Is(err, remote.ErrPasswordChange):
		return e(ExitRemotePassword, p.T("err.remote_password_change"), p.T("hint.remote_password_change")), true
	case errors.As(err, &rule):
		return e(ExitRemotePassword, p.T("password."+rule.Rule, "N", rule.N), p.T("hint.remote_password_rules")), true
	case errors.Is(err, remote.ErrWrongPassword):
		return e(ExitRemoteLogin, p.T("err.remote_wrong_password"), p.T("hint.remote_wrong_password")), true
	case errors.Is(err, remote.ErrAccountLocked):
		return e(ExitRemoteLogin, p.T("err.remote_account_locked"), p.T("hint.remote_account_locked")), true
	case errors.Is(err, remote.ErrNotActivated):
		return e(ExitRemoteNotActive, p.T("err.remote_not_activated"), p.T("hint.remote_activate")), true
	case errors.As(err, &otp) && otp.TriesLeft >= 0:
		return e(ExitWrongOTP, p.T("err.wrong_otp", "Left", otp.TriesLeft), p.T("hint.wrong_otp")), true
	case errors.As(err, &otp):
		return e(ExitWrongOTP, p.T("err.wrong_otp_unknown"), p.T("hint.wrong_otp")), true
	case errors.Is(err, remote.ErrNoOTP):
		return e(ExitWrongOTP, p.T("err.no_otp"), p.T("hint.otp")), true
	case errors.As(err, &locked) && locked.Store == remote.Name:
		return e(ExitPINLocked, p.T("err.remote_pin_locked"), p.T("hint.remote_pin_locked")), true
	case errors.As(err, &puk):
		return e(ExitWrongPUK, p.T("err.remote_wrong_puk", "Left", puk.TriesLeft), p.T("hint.remote_wrong_puk")), true
	case errors.Is(err, remote.ErrPUKLocked):
		return e(ExitWrongPUK, p.T("err.remote_puk_locked"), p.T("hint.remote_ask_ca")), true
	case errors.Is(err, remote.ErrRenewalPending):
		return e(ExitAwaitingApproval, p.T("err.remote_awaiting_approval"), p.T("hint.awaiting_approval")), true
	case errors.Is(err, remote.ErrPINRule):
		return e(ExitPINPolicy, p.T("pin.rules.digits_exact", "N", 8), ""), true
	case errors.Is(err, remote.ErrUnreachable):
		return e(ExitUnreachable, p.T("err.remote_unreachable"), p.T("hint.network")), true
	case errors.Is(err, remote.ErrMalformedReply):
		return e(ExitBadReply, p.T("err.bad_reply"), p.T("hint.network")), true
	case errors.Is(err, remote.ErrBadSignature):
		return e(ExitRefused, p.T("err.remote_bad_signature"), p.T("hint.remote_ask_ca")), true
	case errors.Is(err, remote.ErrUnsupported):
		return e(ExitStoreDisabled, p.T("err.remote_unsupported"), p.T("hint.remote_login")), true
	case errors.As(err, &se):
		return e(ExitRefused, p.T("err.remote_refused", "Message", se.Description), p.T("hint.remote_ask_ca")), true
	}
	return Message{}, false
}
