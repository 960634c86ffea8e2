package portal

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/paraphe/paraphe/internal/i18n"
)

// What a session's pending holds, after one of these prefixes.
const (
	pendingForm = "form:" // the registration form, JSON
	pendingUser = "user:" // the user an additional certificate goes to
	pendingDone = "done:" // what was registered, for the confirmation page
)

// purposeAllowed says whether a session may ask a challenge for purpose:
// registering needs the form, adding the user found, signing in nothing.
func purposeAllowed(se *session, purpose string) bool {
	switch purpose {
	case purposeSignIn:
		return true
	case purposeRegister:
		return se.supplierID != 0 && strings.HasPrefix(se.pending, pendingForm)
	case purposeAdd:
		return se.supplierID != 0 && strings.HasPrefix(se.pending, pendingUser)
	}
	return false
}

// challenge is POST /api/challenge {"purpose": …}: a new challenge for this
// session, replacing any earlier one.
func (p *Portal) challenge(w http.ResponseWriter, r *http.Request, se *session) {
	var req struct {
		Purpose string `json:"purpose"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil || !purposeAllowed(se, req.Purpose) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request"})
		return
	}
	c, err := p.Store.newChallenge(r.Context(), se, req.Purpose, p.now())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "other"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"challenge": c, "expires_in": int(p.ttl().Seconds())})
}

// token is POST /api/token {"purpose": …, "token": {…}}: the bridge's
// authentication token for the session's challenge. The challenge is used
// up first, whatever follows; then the token is verified, and the
// registration, the additional certificate or the sign-in done.
func (p *Portal) token(w http.ResponseWriter, r *http.Request, se *session) {
	pr := i18n.New(lang(r))
	fail := func(status int, err error) {
		code := errCode(err)
		p.log("token refused", "reason", code, "error", err.Error())
		writeJSON(w, status, map[string]string{"error": code, "message": pr.T("portal.err." + code)})
	}
	var req struct {
		Purpose string          `json:"purpose"`
		Token   json.RawMessage `json:"token"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		fail(http.StatusBadRequest, ErrTokenFormat)
		return
	}
	if !purposeAllowed(se, req.Purpose) {
		// Nothing of the kind is under way in this session (done already
		// by a request racing this one, or never started).
		fail(http.StatusForbidden, ErrNoChallenge)
		return
	}
	ctx := r.Context()
	challenge, err := p.Store.useChallenge(ctx, se, req.Purpose, p.ttl(), p.now())
	if err != nil {
		fail(http.StatusForbidden, err)
		return
	}
	tok, cert, err := parseToken(req.Token)
	if err == nil {
		err = verifySignature(tok, cert, p.Origin, challenge)
	}
	if err == nil {
		_, err = trustCertificate(ctx, cert, p.Intermediates, p.Trust)
	}
	if err != nil {
		fail(http.StatusForbidden, err)
		return
	}
	next, err := p.accept(r, se, req.Purpose, cert)
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, ErrCertUnknown) || errors.Is(err, ErrCertRevoked) {
			status = http.StatusForbidden
		}
		fail(status, err)
		return
	}
	p.log("token accepted", "purpose", req.Purpose, "holder", cert.Subject.CommonName, "user", se.userID)
	writeJSON(w, http.StatusOK, map[string]string{"next": next})
}

// accept does what the verified certificate was presented for and returns
// the page to go to.
func (p *Portal) accept(r *http.Request, se *session, purpose string, cert *x509.Certificate) (string, error) {
	ctx := r.Context()
	sp, _ := p.Store.supplier(ctx, se.supplierID)
	info := doneInfo{Holder: cert.Subject.CommonName, Supplier: sp.Name}
	switch purpose {
	case purposeRegister:
		var f Registration
		if err := json.Unmarshal([]byte(strings.TrimPrefix(se.pending, pendingForm)), &f); err != nil {
			return "", ErrNoChallenge
		}
		u, err := p.Store.Register(ctx, se.supplierID, f, cert, p.now())
		if err != nil {
			return "", err
		}
		info.UserID, info.Admin = u.ID, u.Admin
	case purposeAdd:
		user := strings.TrimPrefix(se.pending, pendingUser)
		if err := p.Store.AddCertificate(ctx, user, cert, p.now()); err != nil {
			return "", err
		}
		info.UserID, info.Added = user, true
	case purposeSignIn:
		c, u, err := p.Store.CertificateFor(ctx, cert)
		if err != nil {
			return "", err
		}
		se.userID, se.certID, se.supplierID, se.pending = u.ID, c.ID, u.SupplierID, ""
		return "/account", p.Store.save(ctx, se)
	}
	data, _ := json.Marshal(info)
	se.pending = pendingDone + string(data)
	return "/done", p.Store.save(ctx, se)
}
