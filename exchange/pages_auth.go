package exchange

import (
	"errors"
	"net/http"
	"net/url"
)

// loginData is the sign-in form's.
type loginData struct {
	Login string
	Next  string
}

func (w *web) loginPage(q *request) error {
	if q.user != nil {
		http.Redirect(q.w, q.r, "/parcels", http.StatusSeeOther)
		return nil
	}
	v := w.view(q, "exchange.login.title", loginData{Next: localNext(q.r.URL.Query().Get("next"))})
	switch q.r.URL.Query().Get("notice") {
	case "password_set":
		v.Notice = q.p.T("exchange.login.password_set")
	case "signed_out":
		v.Notice = q.p.T("exchange.login.signed_out")
	}
	return w.render(q, http.StatusOK, "login", v)
}

// localNext is where to go after sign-in: a page of this site, or the list.
func localNext(next string) string {
	if p := localPath(next); p != "/" && p != "/login" {
		return p
	}
	return "/parcels"
}

// loginError says why a sign-in (or its code) was refused.
func (w *web) loginError(q *request, err error) (string, bool) {
	var locked *LockedError
	switch {
	case errors.As(err, &locked):
		return lockedMessage(q, locked), true
	case errors.Is(err, ErrBadLogin):
		return q.p.T("exchange.login.wrong"), true
	case errors.Is(err, ErrTOTP):
		return q.p.T("exchange.login.wrong_code"), true
	}
	return "", false
}

func (w *web) login(q *request) error {
	login, next := q.r.PostFormValue("login"), localNext(q.r.PostFormValue("next"))
	u, err := w.x.SignIn(q.ctx(), login, q.r.PostFormValue("password"), q.remote)
	if msg, ok := w.loginError(q, err); ok {
		v := w.view(q, "exchange.login.title", loginData{Login: login, Next: next})
		v.Error = msg
		return w.render(q, http.StatusUnauthorized, "login", v)
	}
	if err != nil {
		return err
	}
	stage := stageFull
	if u.TOTP {
		stage = stageTOTP
	}
	tok, err := w.x.newSession(q.ctx(), u.ID, stage, false)
	if err != nil {
		return err
	}
	// A new token at every sign-in: no session fixation.
	w.setCookie(q.w, cookieSession, tok, 0)
	if stage == stageTOTP {
		http.Redirect(q.w, q.r, "/login/code?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	w.x.Log.Info("signed in", "user", u.Code, "remote", q.remote)
	http.Redirect(q.w, q.r, next, http.StatusSeeOther)
	return nil
}

// pending is the user whose password was right and whose code is due.
func (w *web) pending(q *request) (*User, string) {
	tok := w.cookie(q.r, cookieSession)
	u, stage, err := w.x.session(q.ctx(), tok, false)
	if err != nil || stage != stageTOTP {
		return nil, ""
	}
	return u, tok
}

func (w *web) codePage(q *request) error {
	if u, _ := w.pending(q); u == nil {
		http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
		return nil
	}
	return w.render(q, http.StatusOK, "code", w.view(q, "exchange.code.title", loginData{Next: localNext(q.r.URL.Query().Get("next"))}))
}

// code checks the TOTP code of the pending session.
func (w *web) code(q *request) error {
	u, tok := w.pending(q)
	if u == nil {
		http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
		return nil
	}
	next := localNext(q.r.PostFormValue("next"))
	_, err := w.x.CheckTOTP(q.ctx(), u.ID, q.r.PostFormValue("code"), q.remote)
	if msg, ok := w.loginError(q, err); ok {
		v := w.view(q, "exchange.code.title", loginData{Next: next})
		v.Error = msg
		var locked *LockedError
		if errors.As(err, &locked) {
			w.x.endSession(q.ctx(), tok)
		}
		return w.render(q, http.StatusUnauthorized, "code", v)
	}
	if err != nil {
		return err
	}
	w.x.endSession(q.ctx(), tok)
	full, err := w.x.newSession(q.ctx(), u.ID, stageFull, false)
	if err != nil {
		return err
	}
	w.setCookie(q.w, cookieSession, full, 0)
	w.x.Log.Info("signed in", "user", u.Code, "totp", true, "remote", q.remote)
	http.Redirect(q.w, q.r, next, http.StatusSeeOther)
	return nil
}

func (w *web) logout(q *request) error {
	if err := w.x.endSession(q.ctx(), q.session); err != nil {
		return err
	}
	w.setCookie(q.w, cookieSession, "", -1)
	http.Redirect(q.w, q.r, "/login?notice=signed_out", http.StatusSeeOther)
	return nil
}

// invitationData is the password form's.
type invitationData struct {
	User  *User
	Min   int
	Max   int
	Valid bool
}

func (w *web) invitationPage(q *request) error {
	u, err := w.x.Invitation(q.ctx(), q.r.PathValue("token"))
	if errors.Is(err, ErrInvitation) {
		v := w.view(q, "exchange.invitation.title", invitationData{})
		v.Error = q.p.T("exchange.invitation.gone")
		return w.render(q, http.StatusGone, "invitation", v)
	}
	if err != nil {
		return err
	}
	return w.render(q, http.StatusOK, "invitation", w.view(q, "exchange.invitation.title", invitationData{User: u, Min: MinPassword, Max: MaxPassword, Valid: true}))
}

func (w *web) invitation(q *request) error {
	tok := q.r.PathValue("token")
	u, err := w.x.AcceptInvitation(q.ctx(), tok, q.r.PostFormValue("password"), q.r.PostFormValue("again"), q.remote)
	var pe *PasswordError
	switch {
	case errors.Is(err, ErrInvitation):
		v := w.view(q, "exchange.invitation.title", invitationData{})
		v.Error = q.p.T("exchange.invitation.gone")
		return w.render(q, http.StatusGone, "invitation", v)
	case errors.As(err, &pe):
		v := w.view(q, "exchange.invitation.title", invitationData{User: u, Min: MinPassword, Max: MaxPassword, Valid: true})
		v.Error = q.p.T("exchange.rule." + string(pe.Rule))
		return w.render(q, http.StatusBadRequest, "invitation", v)
	case err != nil:
		return err
	}
	w.x.Log.Info("password set", "user", u.Code, "remote", q.remote)
	http.Redirect(q.w, q.r, "/login?notice=password_set", http.StatusSeeOther)
	return nil
}

// lockedMessage says until when the account, or the address, is locked.
func lockedMessage(q *request, locked *LockedError) string {
	key := "exchange.login.locked"
	if locked.Address {
		key = "exchange.login.locked_address"
	}
	return q.p.T(key, "Time", locked.Until.Local().Format(q.p.T("format.datetime")))
}
