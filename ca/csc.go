package ca

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/paraphe/paraphe/protocol"
)

// The HTTP face of remote signing: the CSC API v2 under
// protocol.CSCPrefix and the account API under protocol.RemotePrefix,
// served when the CA's keys are on a token (remote holders' keys are
// made there). Each method is a POST of JSON (info may be a GET); all but
// info, auth/login and the password change take the bearer token of
// auth/login. Refusals are protocol.CSCError. The log says who signed how
// many hashes under which credential, and never a secret, a token or a
// hash.

// Body limits: an authorisation or a signature lists up to Multisign
// hashes of 44 characters.
const (
	smallBody = 16 << 10
	hashBody  = 1 << 20
)

func (a *server) remoteRoutes(mux *http.ServeMux) {
	if !a.NeedsToken() {
		return
	}
	csc, remote := protocol.CSCPrefix, protocol.RemotePrefix
	mux.HandleFunc("GET "+csc+"info", a.cscInfo)
	mux.HandleFunc("POST "+csc+"info", a.cscInfo)
	mux.HandleFunc("POST "+csc+"auth/login", a.cscLogin)
	mux.HandleFunc("POST "+csc+"credentials/list", a.bearer(a.cscList))
	mux.HandleFunc("POST "+csc+"credentials/info", a.bearer(a.cscCredentialInfo))
	mux.HandleFunc("POST "+csc+"credentials/sendOTP", a.bearer(a.cscSendOTP))
	mux.HandleFunc("POST "+csc+"credentials/authorize", a.bearer(a.cscAuthorize))
	mux.HandleFunc("POST "+csc+"signatures/signHash", a.bearer(a.cscSignHash))
	mux.HandleFunc("POST "+remote+"password", a.remotePassword)
	mux.HandleFunc("GET "+remote+"account", a.bearer(a.remoteAccount))
	mux.HandleFunc("POST "+remote+"activate", a.bearer(a.remoteActivate))
	mux.HandleFunc("POST "+remote+"activate/confirm", a.bearer(a.remoteConfirm))
	mux.HandleFunc("POST "+remote+"unlock", a.bearer(a.remoteUnlock))
	mux.HandleFunc("POST "+remote+"pin", a.bearer(a.remotePIN))
	mux.HandleFunc("POST "+remote+"renew", a.bearer(a.remoteRenew))
	mux.HandleFunc("POST "+remote+"renew/details", a.bearer(a.remoteRenewalDetails))
}

// writeCSC sends err as CSC writes refusals.
func (a *server) writeCSC(w http.ResponseWriter, err error) {
	var e *RemoteError
	switch {
	case errors.As(err, &e):
	case errors.Is(err, errNoAccount):
		e = errBearer
	case errors.Is(err, ErrKeysLocked), errors.Is(err, ErrRemoteNeedsToken):
		e = errNoRemote
	default:
		a.log.Error("internal error", "err", err.Error())
		e = cscErr(http.StatusInternalServerError, protocol.CSCServerError, "internal error; the CA operator will find details in the server log")
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="paraphe-csc"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	a.metrics.failures.WithLabelValues(e.Code).Inc()
	writeJSON(w, e.Status, protocol.CSCError{Error: e.Code, Description: e.Description, AttemptsLeft: e.AttemptsLeft})
}

// readBody decodes the JSON body into v; an empty body leaves v as it is.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(v)
	if err != nil && !errors.Is(err, io.EOF) {
		return errBody
	}
	return nil
}

// bearer is h for the user of the request's bearer token.
func (a *server) bearer(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			a.writeCSC(w, errBearer)
			return
		}
		userID, err := a.RemoteBearer(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			a.writeCSC(w, err)
			return
		}
		h(w, r, userID)
	}
}

func (a *server) cscInfo(w http.ResponseWriter, r *http.Request) {
	// Its parameters (lang) are read, not used: English is the only one.
	var in struct {
		Lang string `json:"lang"`
	}
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	writeJSON(w, http.StatusOK, protocol.CSCInfo{
		Specs: protocol.CSCSpecs, Name: a.Config.Name, Region: "EU", Lang: "en",
		Description:    a.Config.Name + ": remote signing, the holders' keys in the CA's HSM",
		AuthType:       []string{"basic"},
		Methods:        a.cscMethods(),
		SignAlgorithms: protocol.CSCSignAlgorithms{Algos: []string{protocol.OIDECDSAWithSHA256, protocol.OIDSHA256WithRSA}},
		Extensions:     &protocol.CSCInfoExtensions{Remote: a.url(protocol.RemotePrefix)},
	})
}

func (a *server) cscLogin(w http.ResponseWriter, r *http.Request) {
	var in protocol.CSCLogin
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	var tok *protocol.CSCToken
	var err error
	if user, password, ok := r.BasicAuth(); ok {
		tok, err = a.RemoteLogin(r.Context(), user, password, in.RememberMe)
	} else if in.RefreshToken != "" {
		tok, err = a.RemoteRefresh(r.Context(), in.RefreshToken)
	} else {
		err = badRequest("Missing credentials: the user ID and password in HTTP Basic, or a refresh_token")
	}
	if err != nil {
		if e := (*RemoteError)(nil); errors.As(err, &e) && e.Status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="paraphe-csc"`)
		}
		a.writeCSC(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

func (a *server) cscList(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.CSCListRequest
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	if in.UserID != "" && ParseUserID(in.UserID) != userID {
		a.writeCSC(w, badRequest("Invalid parameter userID: the access token is another user's"))
		return
	}
	out, err := a.RemoteCredentials(r.Context(), userID, in)
	if err != nil {
		a.writeCSC(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *server) cscCredentialInfo(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.CSCInfoRequest
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	out, err := a.RemoteCredentialInfo(r.Context(), userID, in)
	if err != nil {
		a.writeCSC(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// cscMethods are the CSC methods served: credentials/sendOTP where there
// is an SMS sender.
func (a *server) cscMethods() []string {
	m := []string{"info", "auth/login", "credentials/list", "credentials/info", "credentials/authorize", "signatures/signHash"}
	if a.SMS != nil {
		m = append(m[:4], append([]string{"credentials/sendOTP"}, m[4:]...)...)
	}
	return m
}

func (a *server) cscSendOTP(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.CSCSendOTP
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	if err := a.SendRemoteOTP(r.Context(), userID, in); err != nil {
		a.writeCSC(w, err)
		return
	}
	a.log.Info("remote otp sent", "user", userID, "credential", in.CredentialID, "by", "sms")
	w.WriteHeader(http.StatusNoContent)
}

func (a *server) cscAuthorize(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.CSCAuthorize
	if err := readBody(w, r, hashBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	sad, err := a.AuthorizeRemote(r.Context(), userID, in)
	if err != nil {
		a.writeCSC(w, err)
		return
	}
	a.log.Info("remote authorized", "user", userID, "credential", in.CredentialID, "hashes", len(in.Hashes))
	writeJSON(w, http.StatusOK, sad)
}

func (a *server) cscSignHash(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.CSCSignHash
	if err := readBody(w, r, hashBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	sigs, err := a.SignRemote(r.Context(), userID, in)
	if err != nil {
		a.writeCSC(w, err)
		return
	}
	out := protocol.CSCSignatures{Signatures: make([]string, len(sigs))}
	for i, s := range sigs {
		out.Signatures[i] = base64.StdEncoding.EncodeToString(s)
	}
	a.log.Info("remote signed", "user", userID, "credential", in.CredentialID, "hashes", len(sigs))
	writeJSON(w, http.StatusOK, out)
}

func (a *server) remotePassword(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="paraphe-csc"`)
		a.writeCSC(w, cscErr(http.StatusUnauthorized, protocol.CSCAccessDenied, "the user ID and current password go in HTTP Basic"))
		return
	}
	var in protocol.RemotePassword
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	if err := a.ChangeRemotePassword(r.Context(), user, password, in.NewPassword); err != nil {
		a.writeCSC(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *server) remoteAccount(w http.ResponseWriter, r *http.Request, userID string) {
	acc, err := a.RemoteAccountOf(r.Context(), userID)
	if err != nil {
		a.writeCSC(w, err)
		return
	}
	writeJSON(w, http.StatusOK, acc)
}

func (a *server) remoteActivate(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.RemoteActivate
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	setup, err := a.ActivateRemote(r.Context(), userID, in.PUK, in.NewPIN)
	if err != nil {
		a.writeCSC(w, err)
		return
	}
	writeJSON(w, http.StatusOK, setup)
}

func (a *server) remoteConfirm(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.RemoteOTP
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	if err := a.ConfirmRemoteOTP(r.Context(), userID, in.OTP); err != nil {
		a.writeCSC(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *server) remoteUnlock(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.RemoteActivate
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	if err := a.UnlockRemote(r.Context(), userID, in.PUK, in.NewPIN); err != nil {
		a.writeCSC(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *server) remotePIN(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.RemotePINChange
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	if err := a.ChangeRemotePIN(r.Context(), userID, in.PIN, in.OTP, in.NewPIN); err != nil {
		a.writeCSC(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// renewalRefusal is a renewal's refusal (revoked, coupon, approval
// awaited…) as remote signing's.
func renewalRefusal(err error) error {
	var ae *APIError
	var pending *RenewalPendingError
	switch {
	case errors.As(err, &ae):
		return cscErr(ae.Status, ae.Code, ae.Message)
	case errors.As(err, &pending):
		return cscErr(http.StatusConflict, protocol.RemoteRenewalPending,
			"the renewal awaits a registration officer's approval (request "+strconv.FormatInt(pending.Request.ID, 10)+"): ask again once it is approved")
	}
	return err
}

// remoteRenewalDetails says what the successor of a credential's
// certificate will carry, for the holder to confirm before renewing.
func (a *server) remoteRenewalDetails(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.RemoteCredential
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	d, err := a.RemoteRenewalDetails(r.Context(), userID, in.CredentialID)
	if err != nil {
		a.writeCSC(w, renewalRefusal(err))
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *server) remoteRenew(w http.ResponseWriter, r *http.Request, userID string) {
	var in protocol.RemoteRenew
	if err := readBody(w, r, smallBody, &in); err != nil {
		a.writeCSC(w, err)
		return
	}
	cert, err := a.RenewRemote(r.Context(), userID, in)
	if err != nil {
		a.writeCSC(w, renewalRefusal(err))
		return
	}
	serial := serialHex(cert.SerialNumber)
	a.log.Info("renewed", "serial", serial, "predecessor", in.CredentialID, "remote", true)
	a.metrics.issued.WithLabelValues("renewal").Inc()
	writeJSON(w, http.StatusOK, protocol.RemoteRenewed{CredentialID: serial, Certificates: []string{
		base64.StdEncoding.EncodeToString(cert.Raw), base64.StdEncoding.EncodeToString(a.Issuer.Raw)}})
}
