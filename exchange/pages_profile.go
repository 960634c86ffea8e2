package exchange

import (
	"errors"
	"io"
	"net/http"
)

// profileData is the profile page's.
type profileData struct {
	Manager *User
	// Setup is a TOTP key being enrolled: shown until a code confirms it.
	Setup *totpSetup
	Min   int
	Max   int
}

type totpSetup struct {
	Key     string // in groups of four
	URI     string
	Pending string // the key wrapped by the master key, carried by the form
}

func (w *web) profile(q *request, status int, setup *totpSetup, notice, problem string) error {
	d := profileData{Setup: setup, Min: MinPassword, Max: MaxPassword}
	if q.user.ManagerID != 0 {
		all, err := w.x.Users(q.ctx(), 0)
		if err != nil {
			return err
		}
		for i := range all {
			if all[i].ID == q.user.ManagerID {
				d.Manager = &all[i]
			}
		}
	}
	v := w.view(q, "exchange.profile.title", d)
	v.Section = "profile"
	if notice != "" {
		v.Notice = q.p.T(notice)
	}
	v.Error = problem
	return w.render(q, status, "profile", v)
}

func (w *web) profilePage(q *request) error {
	notice := ""
	switch q.r.URL.Query().Get("notice") {
	case "password":
		notice = "exchange.profile.password_changed"
	case "totp_on":
		notice = "exchange.profile.totp_on"
	case "totp_off":
		notice = "exchange.profile.totp_off"
	case "language":
		notice = "exchange.profile.language_saved"
	case "certificate":
		notice = "exchange.profile.certificate_saved"
	case "certificate_removed":
		notice = "exchange.profile.certificate_removed"
	}
	return w.profile(q, http.StatusOK, nil, notice, "")
}

// profileError says what went wrong with a profile form, or gives err back.
func (w *web) profileError(q *request, err error, setup *totpSetup) error {
	var pe *PasswordError
	var locked *LockedError
	var ce *CertificateError
	switch {
	case errors.As(err, &pe):
		return w.profile(q, http.StatusBadRequest, setup, "", q.p.T("exchange.rule."+string(pe.Rule)))
	case errors.Is(err, ErrBadLogin):
		return w.profile(q, http.StatusBadRequest, setup, "", q.p.T("exchange.profile.wrong_password"))
	case errors.Is(err, ErrTOTP):
		return w.profile(q, http.StatusBadRequest, setup, "", q.p.T("exchange.login.wrong_code"))
	case errors.As(err, &locked):
		return w.profile(q, http.StatusBadRequest, setup, "", lockedMessage(q, locked))
	case errors.As(err, &ce):
		return w.profile(q, http.StatusBadRequest, setup, "", q.p.T("exchange.cert."+ce.Problem, "Detail", ce.Detail))
	}
	return err
}

func (w *web) changePassword(q *request) error {
	f := q.r.PostFormValue
	if err := w.x.ChangePassword(q.ctx(), q.user, q.session, f("current"), f("password"), f("again"), q.remote); err != nil {
		return w.profileError(q, err, nil)
	}
	http.Redirect(q.w, q.r, "/profile?notice=password", http.StatusSeeOther)
	return nil
}

func (w *web) totpStart(q *request) error {
	key, pending, err := w.x.NewTOTPKey(q.user)
	if err != nil {
		return err
	}
	grouped, uri := w.x.TOTPSetup(q.user, key)
	return w.profile(q, http.StatusOK, &totpSetup{Key: grouped, URI: uri, Pending: pending}, "", "")
}

func (w *web) totpConfirm(q *request) error {
	pending := q.r.PostFormValue("pending")
	key, err := w.x.PendingTOTPKey(q.user, pending)
	if err != nil {
		return w.totpStart(q)
	}
	if err := w.x.EnableTOTP(q.ctx(), q.user, key, q.r.PostFormValue("code"), q.remote); err != nil {
		grouped, uri := w.x.TOTPSetup(q.user, key)
		return w.profileError(q, err, &totpSetup{Key: grouped, URI: uri, Pending: pending})
	}
	http.Redirect(q.w, q.r, "/profile?notice=totp_on", http.StatusSeeOther)
	return nil
}

func (w *web) totpOff(q *request) error {
	if err := w.x.DisableTOTP(q.ctx(), q.user, q.r.PostFormValue("code"), q.remote); err != nil {
		return w.profileError(q, err, nil)
	}
	http.Redirect(q.w, q.r, "/profile?notice=totp_off", http.StatusSeeOther)
	return nil
}

func (w *web) saveLanguage(q *request) error {
	lang := q.r.PostFormValue("lang")
	if err := w.x.SetLanguage(q.ctx(), q.user, lang); err != nil {
		return err
	}
	http.SetCookie(q.w, &http.Cookie{Name: cookieLang, Value: normalLang(lang), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(q.w, q.r, "/profile?notice=language", http.StatusSeeOther)
	return nil
}

// uploadCertificate registers the encryption certificate of the
// multipart form, whose CSRF token comes first.
func (w *web) uploadCertificate(q *request) error {
	if site := q.r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return errCSRF
	}
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, maxCertificate+8<<10)
	mr, err := q.r.MultipartReader()
	if err != nil {
		return errCSRF
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		return errCSRF
	}
	tok, _ := io.ReadAll(io.LimitReader(part, 256))
	if !w.csrfOK(q.bound, string(tok)) {
		return errCSRF
	}
	var data []byte
	if part, err = mr.NextPart(); err == nil && part.FormName() == "certificate" {
		data, err = io.ReadAll(io.LimitReader(part, maxCertificate))
	}
	if err != nil {
		err = &CertificateError{Problem: "unreadable"}
	} else {
		_, err = w.x.SetCertificate(q.ctx(), q.user, data, q.remote)
	}
	if err != nil {
		return w.profileError(q, err, nil)
	}
	http.Redirect(q.w, q.r, "/profile?notice=certificate", http.StatusSeeOther)
	return nil
}

func (w *web) removeCertificate(q *request) error {
	if err := w.x.RemoveCertificate(q.ctx(), q.user, q.remote); err != nil {
		return err
	}
	http.Redirect(q.w, q.r, "/profile?notice=certificate_removed", http.StatusSeeOther)
	return nil
}
