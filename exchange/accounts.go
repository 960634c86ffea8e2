package exchange

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"
	"unicode"
)

// Kind is what an account is: the firm's (a professional, who may be a
// client's account manager) or a client's.
type Kind string

// Kinds.
const (
	Firm   Kind = "firm"
	Client Kind = "client"
)

// User is an account.
type User struct {
	ID        int64     `json:"-"`
	Code      string    `json:"code"` // the user code, "K7QM-4XZA"
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Kind      Kind      `json:"kind"`
	Lang      string    `json:"lang"`
	ManagerID int64     `json:"-"`
	Manager   string    `json:"manager,omitempty"` // the manager's user code (Users fills it)
	Created   time.Time `json:"created"`
	// HasPassword: the invitation was accepted.
	HasPassword bool      `json:"has_password"`
	TOTP        bool      `json:"totp"`
	LockedUntil time.Time `json:"-"`
	Locked      bool      `json:"locked,omitempty"`

	password    string
	totp        []byte
	totpStep    int64
	failures    int
	certificate []byte // DER certificates, concatenated, leaf first
}

// Errors of the accounts.
var (
	ErrNoUser     = errors.New("exchange: no such user")
	ErrEmailTaken = errors.New("exchange: an account already has this e-mail address")
	ErrBadLogin   = errors.New("exchange: wrong user code, e-mail address or password")
	ErrTOTP       = errors.New("exchange: wrong or already used two-factor code")
	ErrInvitation = errors.New("exchange: the invitation link is unknown, used or expired")
	ErrManager    = errors.New("exchange: an account manager must be a firm account")
)

// LockedError is a sign-in refused because of too many failures: of the
// account, or (Address) from the client's address, whatever accounts
// they tried.
type LockedError struct {
	Until   time.Time
	Address bool
}

func (e *LockedError) Error() string {
	what := "the account is"
	if e.Address {
		what = "sign-ins from this address are"
	}
	return "exchange: too many failed sign-ins; " + what + " locked until " + e.Until.UTC().Format(time.RFC3339)
}

// InputError is a field of a request that cannot be used.
type InputError struct {
	Field   string
	Problem string // a catalogue key's last part: "exchange.input.<problem>"
}

func (e *InputError) Error() string { return "exchange: " + e.Field + ": " + e.Problem }

// normalizeEmail returns the address in lower case, or "" when it is not one.
func normalizeEmail(s string) string {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
		return ""
	}
	return strings.ToLower(a.Address)
}

// codeAlphabet has no 0/O, 1/I/L or U: user codes are read aloud and typed.
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return string(out)
}

// normalizeCode writes a user code as newUserCode does, whatever the case
// and separators typed.
func normalizeCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) != 8 {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// byLogin finds a user by user code or e-mail address.
func (t *tx) byLogin(login string) (*User, error) {
	code, email := normalizeCode(login), normalizeEmail(login)
	if email == "" {
		email = "@" // matches no row: no stored address is that
	}
	return t.userByLogin(code, email)
}

// token returns a random token and the hash the database keeps of it.
func token() (tok, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	tok = base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// NewUser is an account to create.
type NewUser struct {
	Kind  Kind
	Email string
	Name  string
	Lang  string // fr, en or it
	// Manager is a client's account manager (user code or e-mail of a
	// firm account): what the client sends goes to them.
	Manager string
}

// AddUser creates an account and its invitation, and mails the
// invitation when the exchange can. It returns the invitation link, for
// the operator to hand out when it cannot.
func (x *Exchange) AddUser(ctx context.Context, n NewUser) (u *User, link string, mailed bool, err error) {
	err = x.withTx(ctx, func(t *tx) error {
		u, link, err = x.addUser(t, n)
		return err
	})
	if err != nil {
		return nil, "", false, err
	}
	mailed, err = x.mailInvitation(u, link)
	return u, link, mailed, err
}

// addUser creates the account in t; its invitation too.
func (x *Exchange) addUser(t *tx, n NewUser) (*User, string, error) {
	email := normalizeEmail(n.Email)
	if email == "" {
		return nil, "", &InputError{"email", "email"}
	}
	name := strings.TrimSpace(n.Name)
	if name == "" || len(name) > 200 {
		return nil, "", &InputError{"name", "name"}
	}
	if n.Kind != Firm && n.Kind != Client {
		return nil, "", &InputError{"kind", "kind"}
	}
	u := &User{Email: email, Name: name, Kind: n.Kind, Lang: normalLang(n.Lang), Created: x.now().Truncate(time.Second)}
	if n.Manager != "" {
		m, err := t.byLogin(n.Manager)
		if err != nil {
			return nil, "", fmt.Errorf("%w: the manager %s", err, n.Manager)
		}
		if m.Kind != Firm {
			return nil, "", ErrManager
		}
		u.ManagerID, u.Manager = m.ID, m.Code
	}
	for tries := 0; ; tries++ {
		u.Code = newUserCode()
		err := t.insertUser(u)
		if err == nil {
			break
		}
		if isUnique(err) && strings.Contains(err.Error(), "email") {
			return nil, "", fmt.Errorf("%w: %s", ErrEmailTaken, email)
		}
		if !isUnique(err) || tries == 5 {
			return nil, "", fmt.Errorf("exchange: database: %w", err)
		}
	}
	link, err := x.invitation(t, u)
	return u, link, err
}

// invitation records a new invitation for u (the older ones stop working)
// and returns its link.
func (x *Exchange) invitation(t *tx, u *User) (string, error) {
	tok, hash := token()
	now := x.now()
	if err := t.insertInvitation(hash, u.ID, now, now.Add(time.Duration(x.Config.InvitationHours)*time.Hour)); err != nil {
		return "", fmt.Errorf("exchange: database: %w", err)
	}
	return x.link("/invitation/" + tok), nil
}

// Invite makes a new invitation for the account named by login (code or
// e-mail): to set a first password, or a new one when it was forgotten.
func (x *Exchange) Invite(ctx context.Context, login string) (u *User, link string, mailed bool, err error) {
	err = x.withTx(ctx, func(t *tx) error {
		if u, err = t.byLogin(login); err != nil {
			return err
		}
		link, err = x.invitation(t, u)
		return err
	})
	if err != nil {
		return nil, "", false, err
	}
	mailed, err = x.mailInvitation(u, link)
	return u, link, mailed, err
}

// Invitation returns the account an invitation token is for, while it
// can still be used.
func (x *Exchange) Invitation(ctx context.Context, tok string) (*User, error) {
	var u *User
	err := x.withTx(ctx, func(t *tx) error {
		id, expires, used, err := t.invitation(hashToken(tok))
		if err != nil {
			return err
		}
		if used || !x.now().Before(expires) {
			return ErrInvitation
		}
		u, err = t.userByID(id)
		return err
	})
	return u, err
}

// AcceptInvitation sets the password of the invitation's account, once:
// the link is spent in the same transaction, so that a second use (or two
// at once) is refused.
func (x *Exchange) AcceptInvitation(ctx context.Context, tok, password, again, remote string) (*User, error) {
	u, err := x.Invitation(ctx, tok)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(u, password, again); err != nil {
		return u, err
	}
	phc := x.hash(password)
	err = x.withTx(ctx, func(t *tx) error {
		_, expires, _, err := t.invitation(hashToken(tok))
		if err != nil {
			return err
		}
		if !x.now().Before(expires) {
			return ErrInvitation
		}
		if ok, err := t.useInvitation(hashToken(tok), x.now()); err != nil || !ok {
			return errors.Join(ErrInvitation, err)
		}
		if err := t.setPassword(u.ID, phc); err != nil {
			return err
		}
		if err := t.deleteSessions(u.ID, ""); err != nil {
			return err
		}
		return t.event(x.now(), u.ID, "", "", "password_set", remote)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// hash hashes a password, as many at once as there are processors.
func (x *Exchange) hash(password string) string {
	x.hashing <- struct{}{}
	defer func() { <-x.hashing }()
	return hashPassword(password)
}

func (x *Exchange) check(phc, password string) bool {
	x.passwordChecks.Add(1)
	x.hashing <- struct{}{}
	defer func() { <-x.hashing }()
	return checkPassword(phc, password)
}

// attempt reserves a sign-in attempt for the account named by login: it
// is refused while the account is locked, and counted before it is
// checked, so that attempts in parallel (from several replicas too) are
// bounded by the limit. check then judges it; a right one resets the count.
//
// Attempts from one client address are counted the same way, whatever
// account they name (known or not), so that one address cannot try a
// few passwords on each of many accounts: AddressLockoutAttempts failures
// within LockoutMinutes lock the address out for LockoutMinutes.
func (x *Exchange) attempt(ctx context.Context, find func(*tx) (*User, error), check func(*User) (bool, error), remote, what string) (*User, error) {
	var u *User
	now := x.now()
	window := time.Duration(x.Config.LockoutMinutes) * time.Minute
	lockUntil := now.Add(window)
	address := net.ParseIP(remote) != nil // the operator's commands and tests name no address
	if address {
		// In a transaction of its own: an attempt on an unknown account
		// counts too.
		var until time.Time
		err := x.withTx(ctx, func(t *tx) (err error) {
			until, err = t.reserveAddressAttempt(remote, x.Config.AddressLockoutAttempts, now, now.Add(-window), lockUntil)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !until.IsZero() {
			x.Log.Warn("sign-in refused: address locked", "remote", remote, "until", until)
			return nil, &LockedError{Until: until, Address: true}
		}
	}
	err := x.withTx(ctx, func(t *tx) error {
		var err error
		if u, err = find(t); err != nil {
			return err
		}
		if now.Before(u.LockedUntil) {
			return &LockedError{Until: u.LockedUntil}
		}
		u.failures, err = t.reserveAttempt(u.ID, x.Config.LockoutAttempts, lockUntil)
		return err
	})
	if err != nil {
		return nil, err
	}
	ok, err := check(u)
	if err != nil {
		return nil, err
	}
	err = x.withTx(ctx, func(t *tx) error {
		if ok {
			if address {
				if err := t.releaseAddressAttempt(remote); err != nil {
					return err
				}
			}
			return t.resetAttempts(u.ID)
		}
		return t.event(x.now(), u.ID, "", "", what+"_failed", remote)
	})
	switch {
	case err != nil:
		return nil, err
	case ok:
		return u, nil
	case u.failures >= x.Config.LockoutAttempts:
		x.Log.Warn("account locked", "user", u.Code, "until", lockUntil, "remote", remote)
		return nil, &LockedError{Until: lockUntil}
	}
	return nil, nil
}

// SignIn checks a user code or e-mail address and password. The caller
// asks for the TOTP code next when the user has one (User.TOTP).
func (x *Exchange) SignIn(ctx context.Context, login, password, remote string) (*User, error) {
	u, err := x.attempt(ctx, func(t *tx) (*User, error) { return t.byLogin(login) },
		func(u *User) (bool, error) { return x.check(u.password, password), nil }, remote, "signin")
	if errors.Is(err, ErrNoUser) {
		x.check("", password) // as long as for a known account
		return nil, ErrBadLogin
	}
	if err == nil && u == nil {
		return nil, ErrBadLogin
	}
	return u, err
}

// CheckTOTP checks the second factor of the user whose password was
// right; a wrong code counts as a failed sign-in, and a code is taken once.
func (x *Exchange) CheckTOTP(ctx context.Context, userID int64, code, remote string) (*User, error) {
	u, err := x.attempt(ctx, func(t *tx) (*User, error) { return t.userByID(userID) },
		func(u *User) (bool, error) {
			key, err := x.keys.unwrap("totp", fmt.Sprint(u.ID), u.totp)
			if err != nil {
				return false, err
			}
			step := totpMatch(key, code, x.now())
			if step == 0 {
				return false, nil
			}
			var fresh bool
			err = x.withTx(ctx, func(t *tx) error { fresh, err = t.useTOTPStep(u.ID, step); return err })
			return fresh, err
		}, remote, "totp")
	if err == nil && u == nil {
		return nil, ErrTOTP
	}
	return u, err
}

// NewTOTPKey is a TOTP key for u to enrol, and the wrapped form the
// enrolment form carries until the first code confirms it.
func (x *Exchange) NewTOTPKey(u *User) (key []byte, pending string, err error) {
	key = make([]byte, totpKeySize)
	rand.Read(key)
	w, err := x.keys.wrap("totp-pending", fmt.Sprint(u.ID), key)
	if err != nil {
		return nil, "", err
	}
	return key, base64.RawURLEncoding.EncodeToString(w), nil
}

// TOTPSetup is what an authenticator app needs: the key in groups, and
// the otpauth:// address.
func (x *Exchange) TOTPSetup(u *User, key []byte) (grouped, uri string) {
	return groupKey(key), totpURI(x.Config.Name, u.Email, key)
}

// PendingTOTPKey opens the pending key NewTOTPKey gave for u.
func (x *Exchange) PendingTOTPKey(u *User, pending string) ([]byte, error) {
	w, err := base64.RawURLEncoding.DecodeString(pending)
	if err != nil {
		return nil, ErrUnwrap
	}
	return x.keys.unwrap("totp-pending", fmt.Sprint(u.ID), w)
}

// EnableTOTP turns the second factor on once code proves the app has key.
func (x *Exchange) EnableTOTP(ctx context.Context, u *User, key []byte, code, remote string) error {
	step := totpMatch(key, code, x.now())
	if step == 0 {
		return ErrTOTP
	}
	wrapped, err := x.keys.wrap("totp", fmt.Sprint(u.ID), key)
	if err != nil {
		return err
	}
	return x.withTx(ctx, func(t *tx) error {
		if err := t.setTOTP(u.ID, wrapped, step); err != nil {
			return err
		}
		return t.event(x.now(), u.ID, "", "", "totp_on", remote)
	})
}

// DisableTOTP turns it off; a current code is needed.
func (x *Exchange) DisableTOTP(ctx context.Context, u *User, code, remote string) error {
	if _, err := x.CheckTOTP(ctx, u.ID, code, remote); err != nil {
		return err
	}
	return x.withTx(ctx, func(t *tx) error {
		if err := t.setTOTP(u.ID, nil, 0); err != nil {
			return err
		}
		return t.event(x.now(), u.ID, "", "", "totp_off", remote)
	})
}

// ChangePassword sets a new password for u, who gives the current one;
// u's other sessions end.
func (x *Exchange) ChangePassword(ctx context.Context, u *User, session, current, password, again, remote string) error {
	v, err := x.attempt(ctx, func(t *tx) (*User, error) { return t.userByID(u.ID) },
		func(u *User) (bool, error) { return x.check(u.password, current), nil }, remote, "password")
	if err != nil {
		return err
	}
	if v == nil {
		return ErrBadLogin
	}
	if err := CheckPassword(u, password, again); err != nil {
		return err
	}
	phc := x.hash(password)
	return x.withTx(ctx, func(t *tx) error {
		if err := t.setPassword(u.ID, phc); err != nil {
			return err
		}
		if err := t.deleteSessions(u.ID, hashToken(session)); err != nil {
			return err
		}
		return t.event(x.now(), u.ID, "", "", "password_changed", remote)
	})
}

// User returns the account named by a user code or e-mail address.
func (x *Exchange) User(ctx context.Context, login string) (*User, error) {
	var u *User
	err := x.withTx(ctx, func(t *tx) (err error) { u, err = t.byLogin(login); return err })
	return u, err
}

// Users lists every account (managerID 0), or a manager's clients.
func (x *Exchange) Users(ctx context.Context, managerID int64) ([]User, error) {
	var us []User
	err := x.withTx(ctx, func(t *tx) (err error) {
		if us, err = t.users(managerID); err != nil {
			return err
		}
		codes := map[int64]string{}
		all := us
		if managerID != 0 {
			all, err = t.users(0)
		}
		for _, u := range all {
			codes[u.ID] = u.Code
		}
		for i := range us {
			us[i].Manager = codes[us[i].ManagerID]
			us[i].Locked = x.now().Before(us[i].LockedUntil)
		}
		return err
	})
	return us, err
}

// Unlock lifts a lockout.
func (x *Exchange) Unlock(ctx context.Context, login string) (*User, error) {
	var u *User
	err := x.withTx(ctx, func(t *tx) (err error) {
		if u, err = t.byLogin(login); err != nil {
			return err
		}
		return t.resetAttempts(u.ID)
	})
	return u, err
}

// SetManager makes manager (a firm account) the client's account manager.
func (x *Exchange) SetManager(ctx context.Context, client, manager string) error {
	return x.withTx(ctx, func(t *tx) error {
		c, err := t.byLogin(client)
		if err != nil {
			return err
		}
		m, err := t.byLogin(manager)
		if err != nil {
			return err
		}
		if m.Kind != Firm {
			return ErrManager
		}
		return t.setManager(c.ID, m.ID)
	})
}

// SetLanguage keeps the language u's pages and e-mails are in.
func (x *Exchange) SetLanguage(ctx context.Context, u *User, lang string) error {
	return x.withTx(ctx, func(t *tx) error { return t.setLang(u.ID, normalLang(lang)) })
}
