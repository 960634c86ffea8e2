package portal

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
)

// Purposes a challenge is issued for.
const (
	purposeRegister = "register" // a new user's certificate
	purposeAdd      = "add"      // an additional certificate for an existing user
	purposeSignIn   = "signin"
)

func (p *Portal) home(w http.ResponseWriter, r *http.Request, se *session) {
	p.render(w, "home", p.newPage(r, se, "portal.home.title"), http.StatusOK)
}

// code takes the master code: the supplier is found, or the code refused.
func (p *Portal) code(w http.ResponseWriter, r *http.Request, se *session) {
	sp, err := p.Store.SupplierByCode(r.Context(), r.PostFormValue("code"))
	if err != nil {
		d := p.newPage(r, se, "portal.home.title")
		d.Message = d.T("portal.err." + errCode(err))
		p.log("master code", "outcome", "unknown")
		p.render(w, "home", d, http.StatusOK)
		return
	}
	se.supplierID, se.pending = sp.ID, ""
	if p.save(w, r, se) {
		http.Redirect(w, r, "/supplier", http.StatusSeeOther)
	}
}

// needSupplier sends a session without a master code back home.
func (p *Portal) needSupplier(w http.ResponseWriter, r *http.Request, se *session) bool {
	if se.supplierID == 0 {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return false
	}
	return true
}

func (p *Portal) supplierPage(w http.ResponseWriter, r *http.Request, se *session) {
	if p.needSupplier(w, r, se) {
		p.render(w, "supplier", p.newPage(r, se, "portal.supplier.title"), http.StatusOK)
	}
}

func (p *Portal) adminTaken(r *http.Request, supplier int64) bool {
	taken, _ := p.Store.HasAdmin(r.Context(), supplier)
	return taken
}

func (p *Portal) registerForm(w http.ResponseWriter, r *http.Request, se *session) {
	if !p.needSupplier(w, r, se) {
		return
	}
	d := p.newPage(r, se, "portal.register.title")
	d.AdminTaken = p.adminTaken(r, se.supplierID)
	p.render(w, "register", d, http.StatusOK)
}

// nationalID reads a national ID card number as typed: letters and digits,
// upper case, spaces left out.
func nationalID(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return ""
		}
	}
	if len(s) < 5 || len(s) > 20 {
		return ""
	}
	return s
}

// register takes the registration form; the certificate comes next.
func (p *Portal) register(w http.ResponseWriter, r *http.Request, se *session) {
	if !p.needSupplier(w, r, se) {
		return
	}
	f := Registration{Name: strings.TrimSpace(r.PostFormValue("name")), NationalID: nationalID(r.PostFormValue("national_id")),
		Email: strings.TrimSpace(r.PostFormValue("email")), Phone: strings.TrimSpace(r.PostFormValue("phone")), Admin: r.PostFormValue("admin") == "on"}
	d := p.newPage(r, se, "portal.register.title")
	d.Form, d.AdminTaken = f, p.adminTaken(r, se.supplierID)
	_, mailErr := mail.ParseAddress(f.Email)
	switch {
	case f.Name == "" || len(f.Name) > 200:
		d.Message = d.T("portal.err.name")
	case f.NationalID == "":
		d.Message = d.T("portal.err.national_id")
	case mailErr != nil || strings.ContainsAny(f.Email, "<> "):
		d.Message = d.T("portal.err.email")
	case len(f.Phone) < 6 || len(f.Phone) > 30 || strings.Trim(f.Phone, "+0123456789 ()-.") != "":
		d.Message = d.T("portal.err.phone")
	}
	if d.Message == "" {
		if _, err := p.Store.UserByNationalID(r.Context(), se.supplierID, f.NationalID); err == nil {
			d.Message = d.T("portal.err.user_exists")
		}
	}
	if d.Message != "" {
		p.render(w, "register", d, http.StatusOK)
		return
	}
	form, _ := json.Marshal(f)
	se.pending = pendingForm + string(form)
	if p.save(w, r, se) {
		http.Redirect(w, r, "/certificate/"+purposeRegister, http.StatusSeeOther)
	}
}

func (p *Portal) addForm(w http.ResponseWriter, r *http.Request, se *session) {
	if p.needSupplier(w, r, se) {
		p.render(w, "add", p.newPage(r, se, "portal.add.title"), http.StatusOK)
	}
}

// add takes the national ID number of the user the certificate is added to.
func (p *Portal) add(w http.ResponseWriter, r *http.Request, se *session) {
	if !p.needSupplier(w, r, se) {
		return
	}
	u, err := p.Store.UserByNationalID(r.Context(), se.supplierID, nationalID(r.PostFormValue("national_id")))
	if err != nil {
		d := p.newPage(r, se, "portal.add.title")
		d.Message = d.T("portal.err." + errCode(err))
		p.render(w, "add", d, http.StatusOK)
		return
	}
	se.pending = pendingUser + u.ID
	if p.save(w, r, se) {
		http.Redirect(w, r, "/certificate/"+purposeAdd, http.StatusSeeOther)
	}
}

func (p *Portal) certificatePage(w http.ResponseWriter, r *http.Request, se *session) {
	mode := r.PathValue("mode")
	if (mode != purposeRegister && mode != purposeAdd) || !purposeAllowed(se, mode) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	p.certificateFor(w, r, se, mode)
}

// bridgeCodes are the bridge's error codes (bridge.Code…), said on the
// certificate page as portal.bridge.CODE.
var bridgeCodes = []string{"unreachable", "bad_request", "no_certificate", "unknown_certificate", "busy", "rate_limited",
	"refused", "unavailable", "wrong_pin", "wrong_pin_unknown", "locked", "key_error", "bad_answer"}

// certificateFor is the page where the holder chooses a certificate and
// types the PIN in Paraphe: its script talks to the bridge and to the
// portal's API.
func (p *Portal) certificateFor(w http.ResponseWriter, r *http.Request, se *session, mode string) {
	d := p.newPage(r, se, "portal.certificate.title."+mode)
	d.Mode = mode
	msgs := map[string]string{}
	for _, c := range bridgeCodes {
		msgs[c] = d.T("portal.bridge." + c)
	}
	msgs["wrong_pin"] = d.T("portal.bridge.wrong_pin", "Left", "{n}")
	for _, k := range []string{"choose", "asking", "use", "none_chosen", "expires"} {
		msgs[k] = d.T("portal.certificate." + k)
	}
	cfg, _ := json.Marshal(map[string]any{"mode": mode, "csrf": se.csrf, "bridge": p.BridgeURL, "messages": msgs, "lang": d.Lang})
	d.Config = template.JS(cfg)
	p.render(w, "certificate", d, http.StatusOK)
}

func (p *Portal) done(w http.ResponseWriter, r *http.Request, se *session) {
	d := p.newPage(r, se, "portal.done.title")
	var info doneInfo
	done, ok := strings.CutPrefix(se.pending, pendingDone)
	if err := json.Unmarshal([]byte(done), &info); !ok || err != nil || info.UserID == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d.Done = &info
	p.render(w, "done", d, http.StatusOK)
}

// account is a signed-in user's page; the supplier's administrator also
// sees every certificate of the supplier, and revokes them.
func (p *Portal) account(w http.ResponseWriter, r *http.Request, se *session) {
	d := p.newPage(r, se, "portal.account.title")
	if d.User == nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	sp, _ := p.Store.supplier(r.Context(), d.User.SupplierID)
	d.Supplier = &sp
	d.Certs, _ = p.Store.UserCertificates(r.Context(), d.User.ID)
	if d.User.Admin {
		d.All, _ = p.Store.SupplierCertificates(r.Context(), d.User.SupplierID)
	}
	d.Docs, _ = p.Store.SignedDocuments(r.Context(), d.User.ID)
	if m := r.URL.Query().Get("m"); m == "revoked" {
		d.Info = d.T("portal.account.revoked")
	}
	p.render(w, "account", d, http.StatusOK)
}

func (p *Portal) revoke(w http.ResponseWriter, r *http.Request, se *session) {
	u, err := p.Store.User(r.Context(), se.userID)
	if err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	id, _ := strconv.ParseInt(r.PostFormValue("certificate"), 10, 64)
	if err := p.Store.Revoke(r.Context(), u, id, p.now()); err != nil {
		status := http.StatusNotFound
		if errors.Is(err, ErrNotAdmin) {
			status = http.StatusForbidden
		}
		http.Error(w, err.Error(), status)
		return
	}
	p.log("revoked", "certificate", id, "by", u.ID)
	http.Redirect(w, r, "/account?m=revoked", http.StatusSeeOther)
}

func (p *Portal) signOut(w http.ResponseWriter, r *http.Request, se *session) {
	p.Store.endSession(r.Context(), se)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
