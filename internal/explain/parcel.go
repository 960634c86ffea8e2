package explain

import (
	"errors"

	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/parcel"
	"github.com/paraphe/paraphe/pkcs"
)

// Exit codes of paraphe send and paraphe receive (the firm's exchange).
const (
	ExitExchangeLogin       = 49 // the exchange refused the sign-in: login, password or two-factor code
	ExitExchangeLocked      = 50 // too many failed sign-ins: the account (or this address) is locked for now
	ExitUnknownRecipient    = 51 // no such recipient (or a client without an account manager)
	ExitParcelTooLarge      = 52 // more or larger documents than the exchange accepts
	ExitExchangeUnreachable = 53 // the exchange cannot be reached, or what answers is not one
	ExitRecipientCert       = 54 // end to end: the recipient has no encryption certificate, or it is not trusted
	ExitCannotDecrypt       = 55 // end to end: no key here opens it, the key may not decrypt, or it was altered
	ExitParcelGone          = 56 // no such secure folder, or it expired or was withdrawn
)

// exchange says the errors of the way to the firm's exchange and of its
// secure folders, before the CA's words can be taken for them.
func exchange(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	var (
		se     *parcel.ServerError
		anchor *netclient.AnchorError
		certE  *netclient.CertificateError
		rce    *local.RecipientCertError
	)
	switch {
	case errors.Is(err, parcel.ErrUnreachable) && errors.As(err, &anchor):
		return e(ExitTLSAnchor, p.T("err.exchange_tls", "Host", anchor.Host, "Issuer", anchor.Issuer), p.T("hint.exchange_tls")), true
	case errors.Is(err, parcel.ErrUnreachable) && errors.As(err, &certE):
		return e(ExitTLSAnchor, p.T("err.exchange_cert", "Host", certE.Host), p.T("hint.exchange_address")), true
	case errors.Is(err, parcel.ErrUnreachable):
		return e(ExitExchangeUnreachable, p.T("err.exchange_unreachable"), p.T("hint.exchange_network")), true
	case errors.Is(err, parcel.ErrBadReply):
		return e(ExitExchangeUnreachable, p.T("err.exchange_bad_reply"), p.T("hint.exchange_address")), true
	case errors.Is(err, parcel.ErrBadLogin):
		return e(ExitExchangeLogin, p.T("err.exchange_login"), p.T("hint.exchange_login")), true
	case errors.Is(err, parcel.ErrTOTPRequired):
		return e(ExitExchangeLogin, p.T("err.exchange_totp_required"), p.T("hint.exchange_totp_required")), true
	case errors.Is(err, parcel.ErrWrongCode):
		return e(ExitExchangeLogin, p.T("err.exchange_code"), p.T("hint.exchange_code")), true
	case errors.Is(err, parcel.ErrLocked) && errors.As(err, &se):
		return e(ExitExchangeLocked, p.T("err.exchange_locked", "Time", se.Until.Local().Format(p.T("format.datetime"))), p.T("hint.exchange_locked")), true
	case errors.Is(err, parcel.ErrUnknownRecipient):
		return e(ExitUnknownRecipient, p.T("err.exchange_recipient"), p.T("hint.exchange_recipient")), true
	case errors.Is(err, parcel.ErrNoManager):
		return e(ExitUnknownRecipient, p.T("err.exchange_no_manager"), p.T("hint.exchange_no_manager")), true
	case errors.Is(err, parcel.ErrTooLarge):
		return e(ExitParcelTooLarge, p.T("err.exchange_too_large"), p.T("hint.exchange_too_large")), true
	case errors.Is(err, parcel.ErrTooMany):
		return e(ExitParcelTooLarge, p.T("err.exchange_too_many"), p.T("hint.exchange_too_large")), true
	case errors.Is(err, parcel.ErrNotFound), errors.Is(err, parcel.ErrGone):
		return e(ExitParcelGone, p.T("err.exchange_gone"), p.T("hint.exchange_gone")), true
	case errors.Is(err, parcel.ErrCorrupt):
		return e(ExitExchangeUnreachable, p.T("err.exchange_corrupt"), p.T("hint.exchange_retry")), true
	case errors.Is(err, parcel.ErrSignedOut):
		return e(ExitExchangeLogin, p.T("err.exchange_signed_out"), p.T("hint.exchange_retry")), true
	case errors.As(err, &se) && se.Code == "input" && (se.Reason == "wrong_recipient" || se.Reason == "no_certificate"):
		// End to end, refused by the exchange: in its own words.
		return e(ExitRecipientCert, p.T("exchange.input."+se.Reason), ""), true
	case errors.As(err, &se) && se.Code == "certificate" && se.Reason != "":
		return e(ExitRecipientCert, p.T("exchange.cert."+se.Reason, "Detail", se.Detail), ""), true
	case errors.As(err, &se) && se.Code == "input":
		return e(ExitUsage, p.T("err.exchange_input", "Field", se.Field, "Message", se.Message), ""), true
	case errors.Is(err, local.ErrNoEncryptionCertificate):
		return e(ExitRecipientCert, p.T("err.e2e_no_certificate"), p.T("hint.e2e_no_certificate")), true
	case errors.As(err, &rce):
		return e(ExitRecipientCert, p.T("err.e2e_certificate."+rce.Reason, "Detail", rce.Detail, "Fingerprint", rce.Fingerprint), p.T("hint.e2e_certificate."+rce.Reason)), true
	}
	return decryption(p, err)
}

// decryption says why a document encrypted end to end does not open.
func decryption(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	switch {
	case errors.Is(err, cms.ErrNotRecipient):
		return e(ExitCannotDecrypt, p.T("err.e2e_not_recipient"), p.T("hint.e2e_not_recipient")), true
	case errors.Is(err, pkcs.ErrNotForDecryption):
		return e(ExitCannotDecrypt, p.T("err.e2e_signing_key"), p.T("hint.e2e_not_recipient")), true
	case errors.Is(err, cms.ErrDecrypt):
		return e(ExitCannotDecrypt, p.T("err.e2e_decrypt"), p.T("hint.e2e_not_recipient")), true
	case errors.Is(err, cms.ErrAuthentication):
		return e(ExitCannotDecrypt, p.T("err.e2e_altered"), p.T("hint.e2e_altered")), true
	case errors.Is(err, cms.ErrNotEnveloped), errors.Is(err, cms.ErrUnsupportedEncryption):
		return e(ExitCannotDecrypt, p.T("err.e2e_unreadable"), p.T("hint.e2e_altered")), true
	}
	return Message{}, false
}
