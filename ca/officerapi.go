package ca

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// The HTTP faces of renewal under approval (protocol/renewal.go): the
// holder's, authenticated by the current certificate as simplereenroll
// is, and the officers', a JSON API an officer's workstation calls with a
// session opened by password and one-time code.

// renewalRetryAfter is the Retry-After of a renewal awaiting approval:
// officers decide in hours, not seconds.
const renewalRetryAfter = time.Hour

func (a *server) officerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+protocol.RenewalPrefix+"details", a.handleRenewalDetails)
	mux.HandleFunc("POST "+protocol.RenewalPrefix+"request", a.handleRenewalRequest)
	// Each address may try logins at the pace of answers: the accounts'
	// own limit (maxOfficerFailures) is in the database.
	limit := newAddressLimiter(addressBurst, addressRefill)
	mux.HandleFunc("POST "+protocol.OfficerPrefix+"login", func(w http.ResponseWriter, r *http.Request) {
		if wait := limit.take(clientKey(r.RemoteAddr)); wait > 0 {
			e := apiErr(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many logins from this network address in a short time: try again later")
			e.RetryAfter = wait
			a.writeError(w, e)
			return
		}
		a.handleOfficerLogin(w, r)
	})
	mux.HandleFunc("POST "+protocol.OfficerPrefix+"logout", a.handleOfficerLogout)
	mux.HandleFunc("GET "+protocol.OfficerPrefix+"requests", a.officer(a.handlePendingRenewals))
	mux.HandleFunc("POST "+protocol.OfficerPrefix+"requests/{id}/approve", a.officer(a.handleDecision))
	mux.HandleFunc("POST "+protocol.OfficerPrefix+"requests/{id}/refuse", a.officer(a.handleDecision))
}

// clientCert is the holder's current certificate, sent as TLS client
// certificate.
func (a *server) clientCert(w http.ResponseWriter, r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		a.writeError(w, apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "renewal needs the current certificate as TLS client certificate"))
		return false
	}
	return true
}

func (a *server) handleRenewalDetails(w http.ResponseWriter, r *http.Request) {
	if !a.clientCert(w, r) {
		return
	}
	d, err := a.RenewalDetails(r.Context(), r.TLS.PeerCertificates[0])
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (a *server) handleRenewalRequest(w http.ResponseWriter, r *http.Request) {
	if !a.clientCert(w, r) {
		return
	}
	req, err := a.RequestRenewal(r.Context(), r.TLS.PeerCertificates[0], r.Header.Get(protocol.ConfirmedHeader))
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, req)
}

// officerErr is the refusal a failure of the officers' API is sent as.
func officerErr(err error) error {
	var denied *OfficerDeniedError
	var in *InputError
	switch {
	case errors.As(err, &denied):
		e := apiErr(http.StatusUnauthorized, protocol.CodeOfficerDenied, "officer name, password or one-time code not accepted")
		if denied.AttemptsLeft >= 0 {
			left := denied.AttemptsLeft
			e.AttemptsLeft = &left
		}
		return e
	case errors.Is(err, ErrOfficerLocked):
		return apiErr(http.StatusForbidden, protocol.CodeOfficerLocked, "the account is locked after too many failed logins: the CA operator can enable it again")
	case errors.Is(err, ErrOfficerDisabled):
		return apiErr(http.StatusForbidden, protocol.CodeOfficerLocked, "the account is disabled")
	case errors.Is(err, ErrSessionExpired):
		return apiErr(http.StatusUnauthorized, protocol.CodeSessionExpired, "no valid session: log in again")
	case errors.Is(err, ErrUnknownRequest), errors.Is(err, ErrRequestFormat):
		return apiErr(http.StatusNotFound, protocol.CodeUnknownRequest, "no renewal request with that number")
	case errors.Is(err, ErrRequestDecided):
		return apiErr(http.StatusConflict, protocol.CodeRequestDecided, "the renewal request is no longer awaiting approval")
	case errors.Is(err, ErrRequestStale):
		return apiErr(http.StatusConflict, protocol.CodeRequestDecided, "the certificate was revoked or has expired since the request: it cannot be renewed")
	case errors.As(err, &in):
		return apiErr(http.StatusBadRequest, protocol.CodeBadRequest, in.Field+" "+in.Problem)
	}
	return err
}

// readJSON decodes a small JSON body into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apiErr(http.StatusBadRequest, protocol.CodeBadRequest, "the body is not the JSON document expected")
	}
	return nil
}

func (a *server) handleOfficerLogin(w http.ResponseWriter, r *http.Request) {
	var in protocol.OfficerLogin
	if err := readJSON(w, r, &in); err != nil {
		a.writeError(w, err)
		return
	}
	s, err := a.LoginOfficer(r.Context(), in.Officer, []byte(in.Password), in.Code)
	if err != nil {
		a.writeError(w, officerErr(err))
		return
	}
	t, err := s.NewToken(r.Context())
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func bearer(r *http.Request) string {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// officer serves h to the officer whose session the request's bearer
// token is.
func (a *server) officer(h func(http.ResponseWriter, *http.Request, *OfficerSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := a.OfficerByToken(r.Context(), bearer(r))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="paraphe-rao"`)
			a.writeError(w, officerErr(err))
			return
		}
		h(w, r, s)
	}
}

func (a *server) handleOfficerLogout(w http.ResponseWriter, r *http.Request) {
	if err := a.EndSession(r.Context(), bearer(r)); err != nil {
		a.writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *server) handlePendingRenewals(w http.ResponseWriter, r *http.Request, _ *OfficerSession) {
	ps, err := a.PendingRenewals(r.Context())
	if err != nil {
		a.writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, protocol.PendingRenewals{Requests: ps})
}

func (a *server) handleDecision(w http.ResponseWriter, r *http.Request, s *OfficerSession) {
	id, err := ParseRequestID(r.PathValue("id"))
	if err != nil {
		a.writeError(w, officerErr(err))
		return
	}
	var p *protocol.PendingRenewal
	if strings.HasSuffix(r.URL.Path, "/refuse") {
		var in protocol.RenewalDecision
		if err := readJSON(w, r, &in); err != nil {
			a.writeError(w, err)
			return
		}
		p, err = s.Refuse(r.Context(), id, in.Reason)
	} else {
		p, err = s.Approve(r.Context(), id)
	}
	if err != nil {
		a.writeError(w, officerErr(err))
		return
	}
	writeJSON(w, http.StatusOK, p)
}
