package exchange

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"
)

// Session stages: the password was right and the TOTP code is due, or
// the user is signed in.
const (
	stageTOTP = "totp"
	stageFull = "full"
)

// totpStageTTL is how long the code may be typed after the password.
const totpStageTTL = 5 * time.Minute

var errNoSession = errors.New("exchange: no such session")

// newSession records a session for userID and returns its token, which
// only the cookie (or the API client) holds: the database keeps its hash.
func (x *Exchange) newSession(ctx context.Context, userID int64, stage string, api bool) (string, error) {
	tok, hash := token()
	err := x.withTx(ctx, func(t *tx) error { return t.insertSession(hash, userID, stage, x.now(), api) })
	return tok, err
}

// session returns the user of a live session, and its stage; an idle,
// old or unknown one is errNoSession (and forgotten).
func (x *Exchange) session(ctx context.Context, tok string, api bool) (*User, string, error) {
	if tok == "" {
		return nil, "", errNoSession
	}
	hash := hashToken(tok)
	var u *User
	var stage string
	err := x.withTx(ctx, func(t *tx) error {
		userID, st, created, seen, isAPI, err := t.session(hash)
		if err != nil {
			return err
		}
		now := x.now()
		idle := time.Duration(x.Config.SessionIdleMinutes) * time.Minute
		if api {
			idle = time.Duration(x.Config.SessionMaxHours) * time.Hour
		}
		if st == stageTOTP {
			idle = totpStageTTL
		}
		if isAPI != api || now.Sub(seen) > idle || now.Sub(created) > time.Duration(x.Config.SessionMaxHours)*time.Hour {
			t.deleteSession(hash)
			return errNoSession
		}
		if err := t.touchSession(hash, now); err != nil {
			return err
		}
		stage = st
		u, err = t.userByID(userID)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return u, stage, nil
}

func (x *Exchange) endSession(ctx context.Context, tok string) error {
	return x.withTx(ctx, func(t *tx) error { return t.deleteSession(hashToken(tok)) })
}

// Cookies. With an https public URL they are Secure, and the session's
// takes the __Host- prefix (no Domain, Path=/, Secure: no sibling host can
// set or read it).
const (
	cookieSession = "paraphe_session"
	cookiePre     = "paraphe_pre" // a visitor's, before sign-in: the CSRF tokens of the sign-in forms
	cookieLang    = "paraphe_lang"
)

func (w *web) cookieName(name string) string {
	if w.secure {
		return "__Host-" + name
	}
	return name
}

func (w *web) setCookie(rw http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(rw, &http.Cookie{Name: w.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: w.secure, SameSite: http.SameSiteStrictMode})
}

func (w *web) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(w.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// csrfToken is the token the forms of a page carry: an HMAC of the
// session's (or the visitor's) cookie under a key derived from the master
// key, so that every replica checks it and no other site can know it.
func (w *web) csrfToken(bound string) string {
	m := hmac.New(sha256.New, w.csrfKey)
	m.Write([]byte("csrf\x00" + bound))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (w *web) csrfOK(bound, got string) bool {
	return bound != "" && hmac.Equal([]byte(w.csrfToken(bound)), []byte(got))
}
