package exchange

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// The API the desktop app (and paraphe send) calls: JSON, and the same
// multipart body as the web form for a parcel. A client signs in with the
// user's own code or e-mail, password and, when the user has one, TOTP
// code, and gets a bearer token (a session of its own, as long-lived as a
// web session at most); no cookie is involved, hence no CSRF.
//
//	POST   /api/v1/token       {"login", "password", "totp"} → {"token", "expires", "user", "limits"}
//	DELETE /api/v1/token       ends the token's session
//	GET    /api/v1/recipients  a firm user's clients
//	GET    /api/v1/recipient?login=L  who a parcel to L goes to (a client's: their manager), and their encryption certificate
//	POST   /api/v1/parcels     multipart: recipient, recipient_name, title, note, days, end_to_end, then document parts → the parcel
//	GET    /api/v1/parcels     {"received", "sent"}
//	GET    /api/v1/parcels/{id}  the parcel, its note and documents (the recipient's first look opens it)
//	GET    /api/v1/parcels/{id}/documents/{doc}  the document's bytes
//	PUT    /api/v1/certificate  the user's encryption certificate (PEM or DER) → its description
//	DELETE /api/v1/certificate  forgets it
//
// Errors are {"code", "message"} with the HTTP status that fits; codes:
// bad_login, locked (with "until"), totp_required, wrong_code,
// unauthorized, input (with "field" and "reason"), certificate (with
// "reason"), no_manager, too_large, no_files, too_many, not_found, gone,
// internal.
func (w *web) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/token", w.apiToken)
	mux.HandleFunc("DELETE /api/v1/token", w.apiAuth(func(rw http.ResponseWriter, r *http.Request, u *User, tok string) {
		w.x.endSession(r.Context(), tok)
		rw.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /api/v1/recipients", w.apiAuth(w.apiRecipients))
	mux.HandleFunc("GET /api/v1/recipient", w.apiAuth(w.apiRecipient))
	mux.HandleFunc("POST /api/v1/parcels", w.apiAuth(w.apiSend))
	mux.HandleFunc("GET /api/v1/parcels", w.apiAuth(w.apiParcels))
	mux.HandleFunc("GET /api/v1/parcels/{id}", w.apiAuth(w.apiParcel))
	mux.HandleFunc("GET /api/v1/parcels/{id}/documents/{doc}", w.apiAuth(w.apiDocument))
	mux.HandleFunc("PUT /api/v1/certificate", w.apiAuth(w.apiSetCertificate))
	mux.HandleFunc("DELETE /api/v1/certificate", w.apiAuth(func(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
		if err := w.x.RemoveCertificate(r.Context(), u, w.remoteOf(r)); err != nil {
			w.apiFail(rw, err)
			return
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
}

// apiDocument streams a document to its parcel's sender or recipient, as
// the web's download does (and audited the same).
func (w *web) apiDocument(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	o, err := w.x.OpenDocument(r.Context(), u, r.PathValue("id"), r.PathValue("doc"), "downloaded", w.remoteOf(r))
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	defer o.Close()
	w.stream(rw, o)
}

// APIError is the API's error body.
type APIError struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Field   string     `json:"field,omitempty"`
	Reason  string     `json:"reason,omitempty"` // an input's or a certificate's problem, as the catalogue names it
	Detail  string     `json:"detail,omitempty"` // a certificate problem's detail (a date, a usage)
	Until   *time.Time `json:"until,omitempty"`
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(v)
}

// apiFail answers with the error's code and status.
func (w *web) apiFail(rw http.ResponseWriter, err error) {
	var in *InputError
	var locked *LockedError
	var ce *CertificateError
	var tooBig *http.MaxBytesError
	e, status := APIError{Code: "internal", Message: "internal error; the operator will find details in the server log"}, http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrBadLogin):
		e, status = APIError{Code: "bad_login", Message: err.Error()}, http.StatusUnauthorized
	case errors.As(err, &locked):
		e, status = APIError{Code: "locked", Message: err.Error(), Until: &locked.Until}, http.StatusTooManyRequests
	case errors.Is(err, ErrTOTP):
		e, status = APIError{Code: "wrong_code", Message: err.Error()}, http.StatusUnauthorized
	case errors.Is(err, errNoSession):
		e, status = APIError{Code: "unauthorized", Message: "sign in first: POST /api/v1/token"}, http.StatusUnauthorized
	case errors.As(err, &in):
		e, status = APIError{Code: "input", Message: err.Error(), Field: in.Field, Reason: in.Problem}, http.StatusBadRequest
	case errors.As(err, &ce):
		e, status = APIError{Code: "certificate", Message: err.Error(), Reason: ce.Problem, Detail: ce.Detail}, http.StatusBadRequest
	case errors.Is(err, ErrEmailTaken):
		e, status = APIError{Code: "input", Message: err.Error(), Field: "recipient"}, http.StatusBadRequest
	case errors.Is(err, ErrNoManager):
		e, status = APIError{Code: "no_manager", Message: err.Error()}, http.StatusConflict
	case errors.Is(err, ErrTooLarge), errors.As(err, &tooBig):
		e, status = APIError{Code: "too_large", Message: ErrTooLarge.Error()}, http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrNoFiles):
		e, status = APIError{Code: "no_files", Message: err.Error()}, http.StatusBadRequest
	case errors.Is(err, ErrTooMany):
		e, status = APIError{Code: "too_many", Message: err.Error()}, http.StatusBadRequest
	case errors.Is(err, ErrNoParcel), errors.Is(err, ErrNoDocument):
		e, status = APIError{Code: "not_found", Message: err.Error()}, http.StatusNotFound
	case errors.Is(err, ErrGone):
		e, status = APIError{Code: "gone", Message: err.Error()}, http.StatusGone
	default:
		w.x.Log.Error("API request failed", "err", err.Error())
	}
	if status == http.StatusUnauthorized {
		rw.Header().Set("WWW-Authenticate", `Bearer realm="paraphe-exchange"`)
	}
	writeJSON(rw, status, e)
}

// TokenRequest is POST /api/v1/token's body.
type TokenRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
}

// TokenResponse is its answer.
type TokenResponse struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	User    User      `json:"user"`
	Limits  Limits    `json:"limits"`
}

// Limits are what the exchange accepts in a parcel, for a client to
// check before it uploads.
type Limits struct {
	MaxBytes     int64 `json:"max_bytes"`
	MaxDocuments int   `json:"max_documents"`
	DefaultDays  int   `json:"default_days"`
	MaxDays      int   `json:"max_days"`
}

func (x *Exchange) limits() Limits {
	return Limits{MaxBytes: x.Config.MaxParcelMiB << 20, MaxDocuments: maxDocuments, DefaultDays: x.Config.DefaultExpiryDays, MaxDays: x.Config.MaxExpiryDays}
}

func (w *web) apiToken(rw http.ResponseWriter, r *http.Request) {
	var in TokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 16<<10)).Decode(&in); err != nil {
		w.apiFail(rw, &InputError{"body", "body"})
		return
	}
	ctx, remote := r.Context(), w.remoteOf(r)
	u, err := w.x.SignIn(ctx, in.Login, in.Password, remote)
	if err == nil && u.TOTP {
		if in.TOTP == "" {
			writeJSON(rw, http.StatusUnauthorized, APIError{Code: "totp_required", Message: "this account signs in with a two-factor code too: give it as totp"})
			return
		}
		_, err = w.x.CheckTOTP(ctx, u.ID, in.TOTP, remote)
	}
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	tok, err := w.x.newSession(ctx, u.ID, stageFull, true)
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	w.x.Log.Info("API token", "user", u.Code, "remote", remote)
	writeJSON(rw, http.StatusOK, TokenResponse{Token: tok, Expires: w.x.now().Add(time.Duration(w.x.Config.SessionMaxHours) * time.Hour), User: *u, Limits: w.x.limits()})
}

// apiAuth runs h for the user of the request's bearer token.
func (w *web) apiAuth(h func(http.ResponseWriter, *http.Request, *User, string)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.apiFail(rw, errNoSession)
			return
		}
		u, _, err := w.x.session(r.Context(), tok, true)
		if err != nil {
			w.apiFail(rw, errNoSession)
			return
		}
		h(rw, r, u, tok)
	}
}

func (w *web) apiRecipients(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	clients := []User{}
	if u.Kind == Firm {
		var err error
		if clients, err = w.x.Users(r.Context(), u.ID); err != nil {
			w.apiFail(rw, err)
			return
		}
	}
	writeJSON(rw, http.StatusOK, clients)
}

// SentParcel is POST /api/v1/parcels's answer.
type SentParcel struct {
	Parcel
	URL    string `json:"url"`
	Mailed bool   `json:"mailed"` // the recipient was told by e-mail
}

func (w *web) apiSend(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	p, mailed, _, err := w.receive(r.Context(), rw, r, u, nil, w.remoteOf(r))
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	writeJSON(rw, http.StatusCreated, SentParcel{Parcel: *p, URL: w.x.link("/parcels/" + p.ID), Mailed: mailed})
}

// RecipientInfo is GET /api/v1/recipient's answer: the account a parcel
// goes to, or the address of a new client it would invite, and the
// account's encryption certificate when it registered one.
type RecipientInfo struct {
	Recipient   *Party       `json:"recipient,omitempty"`
	New         string       `json:"new,omitempty"` // the address of the client to invite
	Certificate *Certificate `json:"certificate,omitempty"`
}

func (w *web) apiRecipient(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	info, err := w.x.RecipientOf(r.Context(), u, r.URL.Query().Get("login"))
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, info)
}

// ParcelList is GET /api/v1/parcels's answer.
type ParcelList struct {
	Received []Parcel `json:"received"`
	Sent     []Parcel `json:"sent"`
}

func (w *web) apiParcels(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	received, sent, err := w.x.Parcels(r.Context(), u)
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, ParcelList{Received: append([]Parcel{}, received...), Sent: append([]Parcel{}, sent...)})
}

func (w *web) apiParcel(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	p, err := w.x.Parcel(r.Context(), u, r.PathValue("id"), w.remoteOf(r))
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, p)
}

// maxCertificate bounds a registered certificate's upload.
const maxCertificate = 64 << 10

func (w *web) apiSetCertificate(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	data, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxCertificate))
	if err != nil {
		w.apiFail(rw, &CertificateError{Problem: "unreadable"})
		return
	}
	c, err := w.x.SetCertificate(r.Context(), u, data, w.remoteOf(r))
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	writeJSON(rw, http.StatusOK, c)
}
