// Package explain says what an error from the packages below means, in the
// user's language, with the next step and the command line's exit code. The
// command line and the desktop app show the same words.
package explain

import (
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/paraphe/paraphe/activation"
	"github.com/paraphe/paraphe/cades"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/i18n"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/netclient"
	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// Exit codes, documented in the usage text and the README.
const (
	ExitOK            = 0
	ExitError         = 1
	ExitUsage         = 2
	ExitUnknownRef    = 3
	ExitExpiredRef    = 4
	ExitLockedRef     = 5
	ExitWrongAnswers  = 6
	ExitUsedRef       = 7
	ExitUnreachable   = 8
	ExitTLSAnchor     = 9
	ExitBadReply      = 10
	ExitKeychain      = 11
	ExitPINPolicy     = 12
	ExitNoPolicy      = 13
	ExitWrongPIN      = 14
	ExitPINLocked     = 15
	ExitStoreDisabled = 16
	ExitToken         = 17 // module missing, no token, token removed
	ExitWrongPUK      = 18
	ExitNoCert        = 19
	ExitNoPUK         = 20 // a keychain key has no PUK
	ExitBadFile       = 21 // a PKCS#12 file that cannot be read
	ExitRefused       = 22 // the CA refused the request for another reason

	ExitSomeFailed         = 23 // a batch where some files could not be signed
	ExitPDFEncrypted       = 24
	ExitPDFBad             = 25 // not a PDF, or damaged
	ExitOutput             = 26 // the output exists, or would replace the input
	ExitValidationServices = 27 // time-stamping or revocation services unreachable
	ExitPDFCertified       = 28 // the document's certification forbids this signature
	ExitPDFNeedsRepair     = 29 // the PDF's structure is damaged (cut short?): sign it only with --repair

	ExitSigInvalid   = 30 // a signature is broken or its certificate revoked
	ExitSigUntrusted = 31 // a signature does not chain to a trusted root
	ExitSigModified  = 32 // the document changed after a signature beyond what is allowed
	ExitNotSigned    = 33

	ExitUnconfigured = 34 // the machine policy is the packages' template: no CA yet
	ExitNotAdmin     = 35 // writing the machine policy needs administrator rights
	ExitKeyFileStale = 36 // a keychain key file older than its keychain entry (restored after a PIN change)

	ExitTrustNotAllowed = 37 // the machine policy does not let users trust certificates
	ExitTrustFile       = 38 // a file to trust holds no certificate, or only ones already trusted
	ExitTrustUpdate     = 39 // some trusted lists could not be updated

	ExitDemoBusy = 40 // paraphe demo: the demo CA already runs (in a window, or another paraphe demo)

	ExitFieldLocked = 41 // sign --field: an earlier signature locks the field
	ExitFieldExists = 42 // fields add: the form already has a field by that name

	ExitPDFWrongPassword = 43 // the password given does not open the encrypted PDF
	ExitPDFPermission    = 44 // the encrypted PDF's permissions forbid signing it (its owner password lifts them)

	ExitNotSignatureFile = 45 // verify: neither a PDF nor a CMS signature (.p7m, .p7s)
	ExitNoContent        = 46 // verify: the file a detached signature (.p7s) signs is missing

	ExitBridgeNoOrigins = 47 // bridge: the machine policy lists no web origin to answer
	ExitBridgeBusy      = 48 // bridge: its port is taken (the desktop app, another paraphe bridge)
	// 49 to 56: the exchange's, in parcel.go.

	ExitAwaitingApproval    = 57 // renew: the renewal waits for a registration officer's approval
	ExitRenewalRefused      = 58 // renew: a registration officer refused the renewal
	ExitDetailsNotConfirmed = 59 // renew: the holder did not confirm the details the certificate carries

	ExitRemotePassword  = 60 // remote signing: the initial password must change, or a new one breaks a rule
	ExitRemoteLogin     = 61 // remote signing: not signed in, wrong user ID or password, account locked
	ExitWrongOTP        = 62 // remote signing: a wrong, used or missing one-time password
	ExitRemoteNotActive = 63 // remote signing: the certificate is not activated yet
	ExitNoRemote        = 64 // remote signing: the CA offers none
)

// ErrPINMismatch: the new PIN and its confirmation differ.
var ErrPINMismatch = errors.New("the two PINs differ")

// ErrDetailsNotConfirmed: the holder said the details a renewed
// certificate would carry are no longer true.
var ErrDetailsNotConfirmed = errors.New("the details the certificate carries were not confirmed")

// Message is what an error means for the user, in their language: what
// happened, what to do next, and the exit code the command line ends
// with. The command line prints it and exits with Code; the desktop app
// shows it in a dialog.
type Message struct {
	Code int    // the command line's exit code
	Text string // what happened
	Hint string // what to do next; may be empty
	Err  error  // the cause
}

// Error turns an error from the packages below into a message in p's
// language, the next step, and the exit code.
func Error(p *i18n.Printer, err error) Message {
	// The first that knows the error says it: the order matters where an
	// error is several things at once (a wrapped chain).
	for _, say := range []func(*i18n.Printer, error) (Message, bool){exchange, network, remoteSigning, input, keys, files} {
		if m, ok := say(p, err); ok {
			return m
		}
	}
	return Message{Code: ExitError, Text: err.Error(), Err: err}
}

// messages returns the constructor of err's messages.
func messages(err error) func(code int, msg, hint string) Message {
	return func(code int, msg, hint string) Message {
		return Message{Code: code, Text: msg, Hint: hint, Err: err}
	}
}

// network says the errors of the way to the CA: its refusals, TLS,
// proxies, no answer.
func network(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	var (
		se     *activation.ServerError
		aw     *activation.AwaitingApprovalError
		anchor *netclient.AnchorError
		certE  *netclient.CertificateError
		pae    *netclient.ProxyAuthError
		pse    *netclient.ProxyStatusError
	)
	switch {
	case errors.As(err, &aw):
		return e(ExitAwaitingApproval, p.T("err.awaiting_approval", "ID", aw.Request.ID, "Date", p.Date(aw.Request.Created.Local())),
			p.T("hint.awaiting_approval")), true
	case errors.As(err, &se):
		return refusal(p, se, err), true
	case errors.As(err, &anchor):
		return e(ExitTLSAnchor, p.T("err.tls_anchor", "Host", anchor.Host, "Issuer", anchor.Issuer), p.T("hint.tls_anchor")), true
	case errors.As(err, &certE) && certE.Reason == netclient.CertExpired:
		return e(ExitTLSAnchor, p.T("err.ca_cert_expired", "Host", certE.Host), p.T("hint.clock")), true
	case errors.As(err, &certE):
		return e(ExitTLSAnchor, p.T("err.ca_cert_name", "Host", certE.Host), p.T("hint.ask_it")), true
	case errors.Is(err, activation.ErrWrongCA):
		return e(ExitTLSAnchor, p.T("err.wrong_ca"), p.T("hint.ask_it")), true
	case errors.As(err, &pae) && pae.Tried != "":
		return e(ExitUnreachable, p.T("err.proxy_auth_rejected", "Proxy", pae.Proxy, "Scheme", pae.Tried), p.T("hint.proxy_login")), true
	case errors.As(err, &pae) && (offered(pae.Schemes, "Basic") || offered(pae.Schemes, "NTLM")):
		return e(ExitUnreachable, p.T("err.proxy_auth", "Proxy", pae.Proxy, "Schemes", strings.Join(pae.Schemes, ", ")), p.T("hint.proxy_login")), true
	case errors.As(err, &pae):
		return e(ExitUnreachable, p.T("err.proxy_auth_unsupported", "Proxy", pae.Proxy, "Schemes", strings.Join(pae.Schemes, ", ")), p.T("hint.proxy_exempt")), true
	case errors.As(err, &pse):
		return e(ExitUnreachable, p.T("err.proxy_refused", "Proxy", pse.Proxy, "Status", pse.Status), p.T("hint.proxy_allow")), true
	case errors.Is(err, activation.ErrNoTSA):
		return e(ExitUnreachable, p.T("err.no_tsa"), p.T("hint.level_bb")), true
	case errors.Is(err, activation.ErrUnreachable):
		return e(ExitUnreachable, p.T("err.unreachable"), p.T("hint.network")), true
	case errors.Is(err, activation.ErrMalformedReply):
		return e(ExitBadReply, p.T("err.bad_reply"), p.T("hint.network")), true
	}
	return Message{}, false
}

// input says the errors of what the machine or the user gave: the
// policy, a PIN, a reference code.
func input(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	var (
		fe *config.FieldError
		pe *config.PINError
	)
	switch {
	case errors.Is(err, config.ErrUnconfigured):
		return e(ExitUnconfigured, p.T("err.unconfigured", "Path", config.PolicyPath()), p.T("hint.unconfigured")), true
	case errors.Is(err, config.ErrNoPolicy):
		return e(ExitNoPolicy, p.T("err.no_policy", "Path", config.PolicyPath()), p.T("hint.no_policy")), true
	case errors.As(err, &fe):
		return e(ExitNoPolicy, p.T("err.bad_policy", "Path", fe.Path, "Field", fe.Field, "Reason", p.T("policy."+fe.Reason), "Detail", fe.Detail), p.T("hint.ask_it")), true
	case errors.As(err, &pe):
		return e(ExitPINPolicy, p.T("pin."+pe.Rule, "N", pe.N), ""), true
	case errors.Is(err, ErrPINMismatch):
		return e(ExitPINPolicy, p.T("err.pin_mismatch"), ""), true
	case errors.Is(err, ErrDetailsNotConfirmed):
		return e(ExitDetailsNotConfirmed, p.T("err.details_not_confirmed"), p.T("hint.details_wrong")), true
	case errors.Is(err, protocol.ErrRefCheck):
		return e(ExitUnknownRef, p.T("err.ref_check"), p.T("hint.check_ref")), true
	case errors.Is(err, protocol.ErrRefFormat):
		return e(ExitUnknownRef, p.T("err.ref_format"), p.T("hint.check_ref")), true
	}
	return Message{}, false
}

// keys says the key stores' errors: keychain, PINs, PUKs, tokens.
func keys(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	var (
		wp     *pkcs.WrongPINError
		locked *pkcs.LockedError
		amb    *pkcs.AmbiguousTokenError
	)
	switch {
	case errors.Is(err, pkcs.ErrKeychainUnavailable):
		return e(ExitKeychain, p.T("err.keychain"), p.T("hint.keychain")), true
	case errors.Is(err, pkcs.ErrKeyFileStale):
		return e(ExitKeyFileStale, p.T("err.key_file_stale"), p.T("hint.key_file_stale")), true
	case errors.As(err, &locked), errors.As(err, &wp) && wp.TriesLeft == 0:
		if (locked != nil && locked.Store == pkcs.TokenName) || (wp != nil && wp.Store == pkcs.TokenName) {
			return e(ExitPINLocked, p.T("err.token_locked"), p.T("hint.token_locked")), true
		}
		return e(ExitPINLocked, p.T("err.pin_locked"), p.T("hint.pin_locked")), true
	case errors.As(err, &wp) && wp.TriesLeft > 0:
		return e(ExitWrongPIN, p.T("err.wrong_pin", "Left", wp.TriesLeft), ""), true
	case errors.As(err, &wp) && wp.Low:
		return e(ExitWrongPIN, p.T("err.wrong_pin_low"), p.T("hint.wrong_pin_low")), true
	case errors.As(err, &wp):
		return e(ExitWrongPIN, p.T("err.wrong_pin_unknown"), ""), true
	case errors.Is(err, pkcs.ErrWrongPUK):
		return e(ExitWrongPUK, p.T("err.wrong_puk"), p.T("hint.wrong_puk")), true
	case errors.Is(err, pkcs.ErrPUKLocked):
		return e(ExitWrongPUK, p.T("err.puk_locked"), p.T("hint.puk_locked")), true
	case errors.Is(err, pkcs.ErrNoPKCS11):
		return e(ExitStoreDisabled, p.T("err.no_pkcs11"), p.T("hint.use_keychain")), true
	case errors.Is(err, pkcs.ErrModule):
		return e(ExitToken, p.T("err.module"), p.T("hint.module")), true
	case errors.As(err, &amb):
		var names []string
		for _, t := range amb.Tokens {
			names = append(names, t.Label)
		}
		return e(ExitUsage, p.T("err.tokens_ambiguous", "Tokens", strings.Join(names, ", ")), p.T("hint.tokens_ambiguous")), true
	case errors.Is(err, pkcs.ErrNoToken):
		return e(ExitToken, p.T("err.no_token"), p.T("hint.no_token")), true
	case errors.Is(err, pkcs.ErrTokenRemoved):
		return e(ExitToken, p.T("err.token_removed"), p.T("hint.token_removed")), true
	}
	return Message{}, false
}

// files says the errors of certificates not found and files not read.
func files(p *i18n.Printer, err error) (Message, bool) {
	e := messages(err)
	var pathE *fs.PathError
	switch {
	case errors.Is(err, local.ErrNoCert):
		return e(ExitNoCert, p.T("err.no_cert"), p.T("hint.no_cert")), true
	case errors.Is(err, local.ErrUnknownCert):
		return e(ExitNoCert, p.T("err.unknown_cert"), p.T("hint.certs")), true
	case errors.Is(err, local.ErrWhichCert):
		return e(ExitNoCert, p.T("err.which_cert"), p.T("hint.certs")), true
	case errors.Is(err, pkcs.ErrNotFound):
		return e(ExitNoCert, p.T("err.unknown_cert"), p.T("hint.certs")), true
	case errors.Is(err, io.EOF):
		return e(ExitUsage, p.T("err.eof"), p.T("hint.eof")), true
	case errors.As(err, &pathE):
		return e(ExitUsage, p.T("err.read_file", "File", pathE.Path), ""), true
	}
	return Message{}, false
}

// refusal says what a refusal by the CA means for the holder.
func refusal(p *i18n.Printer, se *activation.ServerError, err error) Message {
	e := messages(err)
	left := -1
	if se.AttemptsLeft != nil {
		left = *se.AttemptsLeft
	}
	switch se.Code {
	case protocol.CodeUnknownReference:
		return e(ExitUnknownRef, p.T("err.unknown_ref"), p.T("hint.check_ref"))
	case protocol.CodeExpired:
		return e(ExitExpiredRef, p.T("err.expired_ref"), p.T("hint.new_ref"))
	case protocol.CodeLocked:
		if left == 0 {
			return e(ExitLockedRef, p.T("err.locked_now"), p.T("hint.new_ref"))
		}
		return e(ExitLockedRef, p.T("err.locked_ref"), p.T("hint.new_ref"))
	case protocol.CodeUsed:
		return e(ExitUsedRef, p.T("err.used_ref"), p.T("hint.used_ref"))
	case protocol.CodeWrongAnswers:
		return e(ExitWrongAnswers, p.T("err.wrong_answers", "Left", left), p.T("hint.wrong_answers"))
	case protocol.CodeAuthExpired:
		return e(ExitExpiredRef, p.T("err.auth_expired"), p.T("hint.retry"))
	case protocol.CodeUnauthorized:
		return e(ExitRefused, p.T("err.unauthorized"), p.T("hint.retry"))
	case protocol.CodeRevoked:
		return e(ExitRefused, p.T("err.revoked"), p.T("hint.new_ref"))
	case protocol.CodePredecessorRevoked:
		return e(ExitRefused, p.T("err.predecessor_revoked"), p.T("hint.new_ref"))
	case protocol.CodeAlreadyRenewed:
		return e(ExitRefused, p.T("err.already_renewed"), p.T("hint.certs"))
	case protocol.CodeCouponRequired:
		return e(ExitRefused, p.T("err.coupon_required"), p.T("hint.coupon"))
	case protocol.CodeCouponInvalid:
		return e(ExitRefused, p.T("err.coupon_invalid"), p.T("hint.coupon"))
	case protocol.CodeRenewalRefused:
		return e(ExitRenewalRefused, p.T("err.renewal_refused", "Reason", se.Reason), p.T("hint.renewal_refused"))
	case protocol.CodeDetailsChanged:
		return e(ExitDetailsNotConfirmed, p.T("err.details_changed"), p.T("hint.details_changed"))
	case protocol.CodeInternal:
		return e(ExitRefused, p.T("err.ca_internal"), p.T("hint.later"))
	case protocol.CodeRateLimited:
		return e(ExitRefused, p.T("err.rate_limited"), p.T("hint.rate_limited"))
	case protocol.CodeBusy:
		return e(ExitRefused, p.T("err.ca_busy"), p.T("hint.ca_busy"))
	}
	return e(ExitRefused, p.T("err.refused", "Message", se.Message), p.T("hint.ask_ca"))
}

// Sign says what went wrong when signing file.
func Sign(p *i18n.Printer, err error, file string) Message {
	e := func(code int, key, hint string) Message {
		return Message{Code: code, Text: p.T(key, "File", file), Hint: p.T(hint), Err: err}
	}
	var (
		damaged *pdf.DamagedError
		locked  *pdf.FieldLockedError
	)
	switch {
	case errors.As(err, &locked):
		return Message{Code: ExitFieldLocked, Text: p.T("err.pdf_field_locked", "File", file, "Field", locked.Field, "By", locked.By),
			Hint: p.T("hint.pdf_field_locked"), Err: err}
	case errors.As(err, &damaged):
		return Message{Code: ExitPDFNeedsRepair, Text: p.T("err.pdf_needs_repair", "File", file, "What", Damage(p, damaged.Damage)),
			Hint: p.T("hint.pdf_needs_repair"), Err: err}
	case errors.Is(err, pdf.ErrWrongPassword):
		return e(ExitPDFWrongPassword, "err.pdf_wrong_password", "hint.pdf_wrong_password")
	case errors.Is(err, pdf.ErrPassword):
		return e(ExitPDFEncrypted, "err.pdf_password", "hint.pdf_password")
	case errors.Is(err, pdf.ErrPermission):
		return e(ExitPDFPermission, "err.pdf_permission", "hint.pdf_permission")
	case errors.Is(err, pdf.ErrEncrypted):
		return e(ExitPDFEncrypted, "err.pdf_encrypted", "hint.pdf_encrypted")
	case errors.Is(err, pdf.ErrNotPDF):
		return e(ExitPDFBad, "err.pdf_not_pdf", "hint.pdf_bad")
	case errors.Is(err, pdf.ErrTruncated):
		return e(ExitPDFBad, "err.pdf_cut_short", "hint.pdf_cut_short")
	case errors.Is(err, pdf.ErrDamaged):
		return e(ExitPDFBad, "err.pdf_damaged", "hint.pdf_bad")
	case errors.Is(err, pdf.ErrOutputExists):
		return e(ExitOutput, "err.pdf_output_exists", "hint.pdf_output")
	case errors.Is(err, pdf.ErrSameFile):
		return e(ExitOutput, "err.pdf_same_file", "hint.pdf_output")
	case errors.Is(err, pdf.ErrTimestamp):
		return e(ExitValidationServices, "err.pdf_timestamp", "hint.level_bb")
	case errors.Is(err, pdf.ErrRevocationNet):
		return e(ExitValidationServices, "err.pdf_revocation", "hint.level_bt")
	case errors.Is(err, pdf.ErrCertified):
		return e(ExitPDFCertified, "err.pdf_certified", "hint.pdf_certified")
	case errors.Is(err, pdf.ErrNotFirst):
		return e(ExitPDFCertified, "err.pdf_not_first", "hint.pdf_not_first")
	case errors.Is(err, pdf.ErrUnknownField):
		return e(ExitUsage, "err.pdf_unknown_field", "hint.pdf_field")
	case errors.Is(err, pdf.ErrLockField):
		return e(ExitUsage, "err.pdf_lock_field", "hint.pdf_fields")
	case errors.Is(err, pdf.ErrFieldExists):
		return e(ExitFieldExists, "err.pdf_field_exists", "hint.pdf_field_exists")
	case errors.Is(err, pdf.ErrFieldName):
		return e(ExitUsage, "err.pdf_field_name", "hint.pdf_field_name")
	case errors.Is(err, pdf.ErrMDP):
		return e(ExitUsage, "err.sign_mdp", "hint.pdf_mdp")
	case errors.Is(err, pdf.ErrPageRange):
		return e(ExitUsage, "err.pdf_page", "hint.pdf_page")
	case errors.Is(err, cades.ErrNoContent):
		return e(ExitNoContent, "err.cades_no_content", "hint.cades_content")
	case errors.Is(err, cades.ErrNotSignature):
		return e(ExitNotSignatureFile, "err.cades_not_signature", "hint.cades_not_signature")
	case errors.Is(err, cades.ErrHasContent):
		return e(ExitUsage, "err.cades_has_content", "hint.cades_extract")
	case errors.Is(err, cades.ErrNothingToExtract):
		return e(ExitUsage, "err.cades_nothing_to_extract", "hint.cades_content")
	case errors.Is(err, cades.ErrLevel):
		return e(ExitUsage, "err.sign_lta_cades", "hint.sign_lta_cades")
	case errors.Is(err, os.ErrNotExist):
		return e(ExitUsage, "err.read_file", "hint.pdf_path")
	}
	if m := Error(p, err); m.Code != ExitError || m.Text != err.Error() {
		return m
	}
	return Message{Code: ExitError, Text: p.T("err.pdf_other", "File", file, "Err", err.Error()), Err: err}
}

// Damage says what is wrong with a damaged PDF (or was rebuilt of it), in
// p's language.
func Damage(p *i18n.Printer, d pdf.Damage) string {
	var parts []string
	if d.Truncated {
		parts = append(parts, p.T("repair.truncated"))
	}
	if d.Rebuilt {
		parts = append(parts, p.T("repair.rebuilt", "N", d.Objects))
	}
	if d.PagesLost() {
		parts = append(parts, p.T("repair.pages_lost", "Found", d.Pages, "Declared", d.PagesDeclared))
	}
	return strings.Join(parts, "; ")
}

// StampLabels are the words of a visible signature in p's language.
func StampLabels(p *i18n.Printer) pdf.Labels {
	return pdf.Labels{
		SignedBy: p.T("stamp.signed_by"), SealedBy: p.T("stamp.sealed_by"), Member: p.T("stamp.member"), Date: p.T("stamp.date"),
		Reason: p.T("stamp.reason"), Location: p.T("stamp.location"), DateLayout: p.T("format.datetime"),
	}
}

func offered(schemes []string, scheme string) bool {
	for _, s := range schemes {
		if strings.EqualFold(s, scheme) {
			return true
		}
	}
	return false
}

// Proxy says a proxy setting ("system", "none", a proxy's URL, "pac+URL")
// in words.
func Proxy(p *i18n.Printer, setting string) string {
	switch setting {
	case "", "system":
		return p.T("proxy.system")
	case "none":
		return p.T("proxy.none")
	}
	if pac, ok := strings.CutPrefix(setting, "pac+"); ok {
		return p.T("proxy.pac", "URL", pac)
	}
	if u, err := url.Parse(setting); err == nil && u.Host != "" {
		if strings.HasPrefix(u.Scheme, "socks") {
			return p.T("proxy.socks", "Host", u.Host)
		}
		return p.T("proxy.http", "Host", u.Host)
	}
	return setting
}
