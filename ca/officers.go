package ca

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Registration officers (RAO) confirm, for organisations whose policy
// asks it, that a holder still holds the title their certificate states
// before it is renewed (renewals.go). Each has an account: a name, a
// password kept as an Argon2id hash (as answers are), and a TOTP key
// (RFC 6238) for the second factor, shown once when the account is made.
// The server needs the TOTP key itself to check codes: it is sealed
// (AES-256-GCM, bound to the officer's name) under officers.key, a key
// file of the CA folder that the database never holds, so that a copy of
// the database gives no second factor.
//
// A login is counted before it is checked, as an answer is: the attempt
// is recorded in the database first (row locked: whatever the replicas or
// the requests in parallel), the password hashed and the code checked
// after; maxOfficerFailures failed logins in a row lock the account
// until the operator enables it again. A code is good once: the time step
// of the last one accepted is kept.

// Events of the officers' accounts (logins, approvals and refusals are
// in audit.go).
const (
	EventOfficerAdded    = "officer.added"
	EventOfficerDisabled = "officer.disabled"
	EventOfficerEnabled  = "officer.enabled"
)

// maxOfficerFailures failed logins in a row lock an officer's account.
const maxOfficerFailures = 5

// officerCheckWindow bounds how long a login being checked counts as one
// under way: a server that stopped in the middle of one leaves it counted
// as failed, not as under way for ever.
const officerCheckWindow = time.Minute

// fileOfficerKey seals the officers' TOTP keys: 32 random bytes, in hex.
const fileOfficerKey = "officers.key"

// Bounds of an officer's password.
const (
	minOfficerPassword = 12 // characters
	maxOfficerPassword = 1024
)

// Errors of the officers' accounts.
var (
	// ErrOfficerName: not a name an officer's account may have.
	ErrOfficerName = errors.New("ca: an officer's name is 1 to 64 lower-case letters, digits, '.', '_' or '-'")
	// ErrOfficerPassword: the password is too short or too long.
	ErrOfficerPassword = fmt.Errorf("ca: an officer's password has %d to %d characters", minOfficerPassword, maxOfficerPassword)
	ErrOfficerExists   = errors.New("ca: an officer of that name exists")
	ErrUnknownOfficer  = errors.New("ca: no officer of that name")
	// ErrOfficerDenied: the name, the password or the one-time code was
	// not accepted (which one is not said). An *OfficerDeniedError.
	ErrOfficerDenied = errors.New("ca: officer name, password or one-time code not accepted")
	// ErrOfficerLocked: too many failed logins in a row.
	ErrOfficerLocked = errors.New("ca: the officer's account is locked after too many failed logins")
	// ErrOfficerDisabled: the operator disabled the account.
	ErrOfficerDisabled = errors.New("ca: the officer's account is disabled")
	// ErrOfficerKey: officers.key, which seals the TOTP keys, cannot be
	// used (missing on this server, damaged, another CA's).
	ErrOfficerKey = errors.New("ca: officers.key cannot be used")
)

// OfficerDeniedError is a login refused for a wrong name, password or
// code; it matches ErrOfficerDenied.
type OfficerDeniedError struct {
	AttemptsLeft int // before the account locks; -1 when not known (no such officer)
}

func (e *OfficerDeniedError) Error() string        { return ErrOfficerDenied.Error() }
func (e *OfficerDeniedError) Is(target error) bool { return target == ErrOfficerDenied }

var officerNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Officer is a registration officer's account, as the operator sees it.
type Officer struct {
	Name      string     `json:"name"`
	Created   time.Time  `json:"created"`
	Disabled  *time.Time `json:"disabled,omitempty"`
	Failures  int        `json:"failures"` // failed logins in a row
	Locked    bool       `json:"locked"`
	LastLogin *time.Time `json:"last_login,omitempty"`
}

// OfficerKey is an officer's second factor, as their authenticator app
// takes it: shown once, when the account is made.
type OfficerKey struct {
	URI    string // otpauth://totp/…, for a QR code
	Secret string // the key in base32, for typing in
}

// checkOfficerPassword says whether password may be an officer's.
func checkOfficerPassword(password []byte) error {
	if n := utf8.RuneCount(password); n < minOfficerPassword || len(password) > maxOfficerPassword || !utf8.Valid(password) {
		return ErrOfficerPassword
	}
	return nil
}

// AddOfficer makes a registration officer's account and returns the key
// of their second factor: the only time it is shown.
func (a *Authority) AddOfficer(ctx context.Context, name string, password []byte) (*OfficerKey, error) {
	if !officerNamePattern.MatchString(name) {
		return nil, ErrOfficerName
	}
	if err := checkOfficerPassword(password); err != nil {
		return nil, err
	}
	key, err := newTOTP(a.Config.Name, name) // totp.go
	if err != nil {
		return nil, err
	}
	aead, err := a.officerCipher(true)
	if err != nil {
		return nil, err
	}
	sealed := sealOfficerKey(aead, name, key.Secret())
	hash := hashSecret(string(password))
	err = a.db.tx(ctx, func(tx *dbTx) error {
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM officers WHERE name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if n > 0 {
			return ErrOfficerExists
		}
		if _, err := tx.Exec(`INSERT INTO officers(name, password, totp, created) VALUES (?,?,?,?)`,
			name, hash, sealed, time.Now().Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(EventOfficerAdded, officerSubject(name), nil)
	})
	if err != nil {
		return nil, err
	}
	return &OfficerKey{URI: key.URL(), Secret: key.Secret()}, nil
}

func officerSubject(name string) string { return "officer:" + name }

// Officers returns every officer's account.
func (a *Authority) Officers(ctx context.Context) ([]Officer, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT name, created, disabled, failures, last_login FROM officers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	defer rows.Close()
	out := []Officer{}
	for rows.Next() {
		var o Officer
		var created int64
		var disabled, last sql.NullInt64
		if err := rows.Scan(&o.Name, &created, &disabled, &o.Failures, &last); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		o.Created, o.Disabled, o.LastLogin = time.Unix(created, 0), unixPtr(disabled), unixPtr(last)
		o.Locked = o.Failures >= maxOfficerFailures
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	return out, nil
}

func unixPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.Unix(v.Int64, 0)
	return &t
}

// DisableOfficer disables an officer's account: no login, and their
// sessions end at once.
func (a *Authority) DisableOfficer(ctx context.Context, name string) error {
	return a.db.tx(ctx, func(tx *dbTx) error {
		o, err := loadOfficer(tx, name)
		if err != nil {
			return err
		}
		if o.disabled.Valid {
			return ErrOfficerDisabled
		}
		if _, err := tx.Exec(`UPDATE officers SET disabled = ? WHERE name = ?`, time.Now().Unix(), name); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM officer_sessions WHERE officer = ?`, name); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(EventOfficerDisabled, officerSubject(name), nil)
	})
}

// EnableOfficer enables a disabled account again, or unlocks one locked
// by failed logins.
func (a *Authority) EnableOfficer(ctx context.Context, name string) error {
	return a.db.tx(ctx, func(tx *dbTx) error {
		o, err := loadOfficer(tx, name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE officers SET disabled = NULL, failures = 0, checking = 0 WHERE name = ?`, name); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return tx.audit(EventOfficerEnabled, officerSubject(name), map[string]string{
			"was_disabled": fmt.Sprint(o.disabled.Valid), "failures": fmt.Sprint(o.failures)})
	})
}

// officerRow is a row of officers.
type officerRow struct {
	name, password, totp string
	totpStep, checkingAt int64
	failures, checking   int
	disabled             sql.NullInt64
}

// underway is how many logins of o are being checked at now.
func (o *officerRow) underway(now time.Time) int {
	if o.checkingAt > now.Add(-officerCheckWindow).Unix() {
		return max(o.checking, 0)
	}
	return 0
}

func loadOfficer(q querier, name string) (*officerRow, error) {
	o := &officerRow{name: name}
	err := q.QueryRow(`SELECT password, totp, totp_step, failures, checking, checking_at, disabled FROM officers WHERE name = ?`+forUpdate(q), name).
		Scan(&o.password, &o.totp, &o.totpStep, &o.failures, &o.checking, &o.checkingAt, &o.disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownOfficer
	}
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	return o, nil
}

// officerCipher is the AEAD of officers.key; create makes the file when
// the CA folder has none (a folder made before officers existed).
func (a *Authority) officerCipher(create bool) (cipher.AEAD, error) {
	path := filepath.Join(a.Dir, fileOfficerKey)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err = newOfficerKey(a.Dir); err == nil || errors.Is(err, fs.ErrExist) {
			data, err = os.ReadFile(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOfficerKey, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%w: %s does not hold 32 bytes in hex", ErrOfficerKey, path)
	}
	block, _ := aes.NewCipher(key)
	return cipher.NewGCM(block)
}

// newOfficerKey writes a new officers.key in dir; an existing one stays
// (fs.ErrExist).
func newOfficerKey(dir string) error {
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(filepath.Join(dir, fileOfficerKey), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The additional data that binds a sealed TOTP key to its officer: a row
// copied onto another officer's does not open.
func officerAAD(name string) []byte { return []byte("paraphe officer totp " + name) }

func sealOfficerKey(aead cipher.AEAD, name, secret string) string {
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(secret), officerAAD(name)))
}

func openOfficerKey(aead cipher.AEAD, name, sealed string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < aead.NonceSize() {
		return "", fmt.Errorf("%w: the sealed TOTP key of %s is damaged", ErrOfficerKey, name)
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], officerAAD(name))
	if err != nil {
		return "", fmt.Errorf("%w: the TOTP key of %s was sealed under another officers.key", ErrOfficerKey, name)
	}
	return string(plain), nil
}
