package exchange

import (
	"encoding/json"
	"errors"
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
//	POST   /api/v1/token       {"login", "password", "totp"} → {"token", "expires", "user"}
//	DELETE /api/v1/token       ends the token's session
//	GET    /api/v1/recipients  a firm user's clients
//	POST   /api/v1/parcels     multipart: recipient, recipient_name, title, note, days, then document parts → the parcel
//	GET    /api/v1/parcels/{id}/documents/{doc}  the document's bytes
//
// Errors are {"code", "message"} with the HTTP status that fits; codes:
// bad_login, locked (with "until"), totp_required, wrong_code,
// unauthorized, input (with "field"), no_manager, too_large, no_files,
// too_many, not_found, gone, internal.
func (w *web) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/token", w.apiToken)
	mux.HandleFunc("DELETE /api/v1/token", w.apiAuth(func(rw http.ResponseWriter, r *http.Request, u *User, tok string) {
		w.x.endSession(r.Context(), tok)
		rw.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /api/v1/recipients", w.apiAuth(w.apiRecipients))
	mux.HandleFunc("POST /api/v1/parcels", w.apiAuth(w.apiSend))
	mux.HandleFunc("GET /api/v1/parcels/{id}/documents/{doc}", w.apiAuth(w.apiDocument))
}

// apiDocument streams a document to its parcel's sender or recipient, as
// the web's download does (and audited the same).
func (w *web) apiDocument(rw http.ResponseWriter, r *http.Request, u *User, _ string) {
	o, err := w.x.OpenDocument(r.Context(), u, r.PathValue("id"), r.PathValue("doc"), "downloaded", remoteOf(r))
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
		e, status = APIError{Code: "input", Message: err.Error(), Field: in.Field}, http.StatusBadRequest
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
}

func (w *web) apiToken(rw http.ResponseWriter, r *http.Request) {
	var in TokenRequest
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 16<<10)).Decode(&in); err != nil {
		w.apiFail(rw, &InputError{"body", "body"})
		return
	}
	ctx, remote := r.Context(), remoteOf(r)
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
	writeJSON(rw, http.StatusOK, TokenResponse{Token: tok, Expires: w.x.now().Add(time.Duration(w.x.Config.SessionMaxHours) * time.Hour), User: *u})
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
	p, mailed, _, err := w.receive(r.Context(), rw, r, u, nil, remoteOf(r))
	if err != nil {
		w.apiFail(rw, err)
		return
	}
	writeJSON(rw, http.StatusCreated, SentParcel{Parcel: *p, URL: w.x.link("/parcels/" + p.ID), Mailed: mailed})
}
