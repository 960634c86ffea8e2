package ca

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Remote signing: a remote holder's key pair is generated on the CA's
// token (the HSM that holds its own keys), never leaves it, and signs the
// hashes the holder's client sends through the CSC API (csc.go) once the
// holder has authorised them with a PIN and a one-time password (TOTP,
// RFC 6238). The CA operator enrols the holder (EnrollRemote), which
// returns, once, what goes in the holder's activation envelope: the user
// ID, an initial password, an emergency code, an initial PIN, a PUK and
// the certificate's serial number. The holder then changes the password
// (the initial one signs in nowhere), activates the credential with the
// PUK, a new PIN of 8 digits and a TOTP generator, and signs.
//
// Every secret is stored as an Argon2id hash but the TOTP key, which the
// server needs back: it is sealed (AES-256-GCM, bound to the user ID)
// under remote.key, a key file of the CA folder that the database never
// holds. Every check of a secret is counted before it is made, in the
// database (remote_checks.go), so that neither parallel requests nor
// replicas get more tries than the policy allows; every event goes to the
// audit trail.

// RemotePolicy is remote signing's part of the CA's policy
// (Config.Remote). Zero values take the defaults.
type RemotePolicy struct {
	// PINTries wrong PINs in a row block the credential (3); OTPTries
	// wrong one-time passwords too (5). The PUK unblocks it.
	PINTries int `json:"pin_tries,omitempty"`
	OTPTries int `json:"otp_tries,omitempty"`
	// PUKTries wrong PUKs block the PUK (3): the operator enrols the
	// holder again.
	PUKTries int `json:"puk_tries,omitempty"`
	// PasswordTries wrong passwords in a row lock the account (10).
	PasswordTries int `json:"password_tries,omitempty"`
	// Multisign is how many hashes one authorisation may list (1000).
	Multisign int `json:"multisign,omitempty"`
	// EmergencyTries wrong emergency codes block the operator's unlock
	// (3): the operator enrols the holder again.
	EmergencyTries int `json:"emergency_tries,omitempty"`
}

func (p RemotePolicy) pinTries() int       { return orDefault(p.PINTries, 3) }
func (p RemotePolicy) otpTries() int       { return orDefault(p.OTPTries, 5) }
func (p RemotePolicy) pukTries() int       { return orDefault(p.PUKTries, 3) }
func (p RemotePolicy) passwordTries() int  { return orDefault(p.PasswordTries, 10) }
func (p RemotePolicy) multisign() int      { return orDefault(p.Multisign, 1000) }
func (p RemotePolicy) emergencyTries() int { return orDefault(p.EmergencyTries, 3) }

func orDefault(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func (p RemotePolicy) validate() error {
	for _, f := range []struct {
		name   string
		n, max int
	}{{"pin_tries", p.PINTries, 20}, {"otp_tries", p.OTPTries, 20}, {"puk_tries", p.PUKTries, 20},
		{"password_tries", p.PasswordTries, 100}, {"multisign", p.Multisign, 10000}, {"emergency_tries", p.EmergencyTries, 20}} {
		if f.n < 0 || f.n > f.max {
			return &InputError{"remote." + f.name, fmt.Sprintf("must be 0 (the default) to %d", f.max)}
		}
	}
	return nil
}

// Errors of remote signing's administration.
var (
	// ErrRemoteNeedsToken: remote holders' keys are made on the CA's
	// token, and this CA keeps its keys in files.
	ErrRemoteNeedsToken = errors.New("ca: remote signing needs the CA's keys on a PKCS#11 token (init --key-store pkcs11)")
	// ErrRemoteSealKey: remote.key, which seals the holders' TOTP keys,
	// is missing or damaged.
	ErrRemoteSealKey = errors.New("ca: remote.key, which seals the remote holders' one-time-password keys, cannot be read")
)

// RemoteEnrolment is what EnrollRemote gives, once: the holder's
// activation envelope. Nothing of it but the user ID and the serial number
// can be read again.
type RemoteEnrolment struct {
	Holder        Holder
	UserID        string
	Password      string // the initial password, which must be changed
	EmergencyCode string
	PIN           string // the initial PIN; activation sets the holder's own
	PUK           string
	Serial        string
	Certificate   *x509.Certificate
}

// EnrollRemote registers a remote holder: the key pair generated on the
// CA's token, the certificate issued for it, the account created, all
// recorded in the audit trail. The holder's secret questions are
// optional (none is asked: the envelope is what activates). deliver, when
// not nil, gets the enrolment before it is committed (to write the
// envelope): when it fails nothing is recorded and the key is destroyed,
// so that no holder is enrolled whose secrets nobody has.
func (a *Authority) EnrollRemote(ctx context.Context, h Holder, deliver func(*RemoteEnrolment) error) (*RemoteEnrolment, error) {
	if err := h.validateIdentity(); err != nil {
		return nil, err
	}
	if len(h.Questions) > 0 {
		if err := h.validateQuestions(); err != nil {
			return nil, err
		}
	}
	if h.Phone != "" && !validPhone(h.Phone) {
		return nil, &InputError{"phone", "must be a mobile number in international form: + and 7 to 15 digits, no spaces (+393331234567)"}
	}
	tk, err := a.remoteKeys()
	if err != nil {
		return nil, err
	}
	// The seal of TOTP keys, before anything is made.
	if _, err := a.remoteSealKey(true); err != nil {
		return nil, err
	}
	e := &RemoteEnrolment{Holder: h, UserID: newUserID(), Password: newPassword(), EmergencyCode: formatDigits(newDigits(12)),
		PIN: newDigits(8), PUK: newDigits(8)}
	key, err := tk.generate(a.Config.HolderKeyType)
	if err != nil {
		return nil, err
	}
	now := a.clockNow()
	cert, err := a.issue(&h, key.Public(), now)
	if err == nil {
		err = tk.keep("", key, cert)
	}
	if err == nil {
		e.Certificate, e.Serial = cert, serialHex(cert.SerialNumber)
		err = a.recordRemote(ctx, e, now, deliver)
	}
	if err != nil {
		tk.discard(key)
		return nil, err
	}
	a.precomputeOCSP(cert)
	return e, nil
}

// recordRemote records a remote enrolment: the holder, the certificate
// and the account, in one transaction with their audit records.
func (a *Authority) recordRemote(ctx context.Context, e *RemoteEnrolment, now time.Time, deliver func(*RemoteEnrolment) error) error {
	h := &e.Holder
	hashes := make([]string, len(h.Questions))
	for i, q := range h.Questions {
		hashes[i] = hashAnswer(q.Answer)
	}
	password, pin, puk, emergency := hashSecret(e.Password), hashSecret(e.PIN), hashSecret(e.PUK), hashSecret(e.EmergencyCode)
	return a.db.tx(ctx, func(tx *dbTx) error {
		err := tx.QueryRow(`INSERT INTO holders(name, title, member_number, organization, email, seal, org_id, country, created) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id`,
			h.Name, h.Title, h.MemberNumber, h.Organization, h.Email, h.Seal, h.OrganizationID, h.Country, now.Unix()).Scan(&h.ID)
		if err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		for i, q := range h.Questions {
			if _, err := tx.Exec(`INSERT INTO questions(holder_id, idx, question, answer_hash) VALUES (?,?,?,?)`, h.ID, i, q.Question, hashes[i]); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		if _, err := tx.Exec(`INSERT INTO certs(serial, holder_id, issued, not_after, der) VALUES (?,?,?,?,?)`,
			e.Serial, h.ID, now.Unix(), e.Certificate.NotAfter.Unix(), e.Certificate.Raw); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if _, err := tx.Exec(`INSERT INTO remote_accounts(user_id, holder_id, state, password_hash, pin_hash, puk_hash, emergency_hash, phone, created)
			VALUES (?,?,?,?,?,?,?,?,?)`, e.UserID, h.ID, remoteStatePassword, password, pin, puk, emergency, h.Phone, now.Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		d := h.auditDetails("")
		delete(d, "reference")
		d["remote"], d["user_id"] = "true", e.UserID
		if err := tx.audit(EventHolderEnrolled, holderSubject(h.ID), d); err != nil {
			return err
		}
		if err := tx.audit(EventIssued, certSubject(e.Serial), map[string]string{"holder": strconv.FormatInt(h.ID, 10),
			"remote": "true", "key": "ca-token", "not_after": e.Certificate.NotAfter.UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
		if deliver != nil {
			return deliver(e)
		}
		return nil
	})
}

// remoteKeys is the token remote holders' keys are made on: the CA's.
func (a *Authority) remoteKeys() (tokenKeys, error) {
	if !a.NeedsToken() {
		return tokenKeys{}, ErrRemoteNeedsToken
	}
	tk, ok := a.keys.(tokenKeys)
	if !ok {
		return tokenKeys{}, ErrKeysLocked
	}
	return tk, nil
}

// The seal of TOTP keys: remote.key in the CA folder (32 random bytes),
// made by the first remote enrolment. Replicas need the same file.
const fileRemoteKey = "remote.key"

var remoteSeal struct {
	sync.Mutex
	keys map[string][]byte // by CA folder
}

// remoteSealKey reads remote.key, making it first when create is set.
func (a *Authority) remoteSealKey(create bool) ([]byte, error) {
	remoteSeal.Lock()
	defer remoteSeal.Unlock()
	if k := remoteSeal.keys[a.Dir]; k != nil {
		return k, nil
	}
	path := filepath.Join(a.Dir, fileRemoteKey)
	k, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		k = make([]byte, 32)
		rand.Read(k)
		err = writeFileIn(a.Dir, fileRemoteKey, k, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRemoteSealKey, err)
	}
	if len(k) != 32 {
		return nil, fmt.Errorf("%w: %s holds %d bytes, not 32", ErrRemoteSealKey, path, len(k))
	}
	if remoteSeal.keys == nil {
		remoteSeal.keys = map[string][]byte{}
	}
	remoteSeal.keys[a.Dir] = k
	return k, nil
}

// seal encrypts a TOTP key for userID.
func (a *Authority) seal(userID string, plain []byte) (string, error) {
	gcm, err := a.sealCipher()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	return base64.RawStdEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte("paraphe totp "+userID))), nil
}

// unseal opens what seal sealed for userID.
func (a *Authority) unseal(userID, sealed string) ([]byte, error) {
	gcm, err := a.sealCipher()
	if err != nil {
		return nil, err
	}
	b, err := base64.RawStdEncoding.DecodeString(sealed)
	if err != nil || len(b) < gcm.NonceSize() {
		return nil, fmt.Errorf("%w: a sealed key is damaged", ErrRemoteSealKey)
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte("paraphe totp "+userID))
	if err != nil {
		return nil, fmt.Errorf("%w: a key sealed under another remote.key", ErrRemoteSealKey)
	}
	return plain, nil
}

func (a *Authority) sealCipher() (cipher.AEAD, error) {
	k, err := a.remoteSealKey(false)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// The envelope's secrets.

// userAlphabet is Crockford's base 32: nothing to confuse when read out.
const userAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newUserID is a user ID: RS and 8 symbols, RS-4K7M-2QXP (40 bits).
func newUserID() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = userAlphabet[randInt(len(userAlphabet))]
	}
	return "RS-" + string(b[:4]) + "-" + string(b[4:])
}

// ParseUserID returns a user ID as the CA writes it, from one as a person
// typed it (case, spaces and dashes ignored; O, I and L read as 0, 1, 1),
// or "" when it cannot be one.
func ParseUserID(typed string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == ' ' || r == '-':
		case r == 'O':
			b.WriteByte('0')
		case r == 'I' || r == 'L':
			b.WriteByte('1')
		case r < 128 && strings.ContainsRune(userAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	s := b.String()
	if len(s) != 10 || !strings.HasPrefix(s, "RS") {
		return ""
	}
	return "RS-" + s[2:6] + "-" + s[6:]
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(n)))
	return int(v.Int64())
}

// newDigits is n random digits.
func newDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + randInt(10))
	}
	return string(b)
}

// formatDigits groups a code of digits by four, as the envelope shows it:
// 1234-5678-9012. The hash is of that form; a typed code is brought to it.
func formatDigits(s string) string {
	var digits []byte
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits = append(digits, byte(r))
		}
	}
	var parts []string
	for len(digits) > 4 {
		parts = append(parts, string(digits[:4]))
		digits = digits[4:]
	}
	return strings.Join(append(parts, string(digits)), "-")
}

// Classes of an initial password: no 0/O, 1/l/I to misread.
var passwordClasses = []string{"ABCDEFGHJKMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789", "#%+=?@!*"}

// newPassword is an initial password of 12 characters that keeps the
// rules a new one must keep.
func newPassword() string {
	for {
		b := make([]byte, 12)
		for i := range b {
			class := passwordClasses[i%len(passwordClasses)]
			if i >= len(passwordClasses) {
				class = passwordClasses[randInt(len(passwordClasses))]
			}
			b[i] = class[randInt(len(class))]
		}
		for i := len(b) - 1; i > 0; i-- {
			j := randInt(i + 1)
			b[i], b[j] = b[j], b[i]
		}
		if passwordRule(string(b)) == "" {
			return string(b)
		}
	}
}

// The rules of a remote holder's password, named as config.PINError
// names them (the client says each in the user's words).
const (
	ruleTooShort = "too_short" // fewer than 8 characters
	ruleTooLong  = "too_long"  // more than 64
	ruleUpper    = "need_upper"
	ruleLower    = "need_lower"
	ruleDigit    = "need_digit"
	ruleSpecial  = "need_special"
	ruleRepeat   = "repeat"          // three identical characters in a row
	ruleSame     = "same_as_current" // the new password is the old one
)

// passwordRule is the first rule p breaks, or "".
func passwordRule(p string) string {
	n := len([]rune(p))
	switch {
	case n < 8:
		return ruleTooShort
	case n > 64:
		return ruleTooLong
	}
	var upper, lower, digit, special bool
	run, prev := 0, rune(-1)
	for _, c := range p {
		switch {
		case c >= 'A' && c <= 'Z', c > 127 && strings.ToLower(string(c)) != string(c):
			upper = true
		case c >= 'a' && c <= 'z', c > 127 && strings.ToUpper(string(c)) != string(c):
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			special = true
		}
		if c == prev {
			run++
		} else {
			run, prev = 1, c
		}
		if run > 2 {
			return ruleRepeat
		}
	}
	switch {
	case !upper:
		return ruleUpper
	case !lower:
		return ruleLower
	case !digit:
		return ruleDigit
	case !special:
		return ruleSpecial
	}
	return ""
}

// validPIN reports whether a new PIN is exactly 8 digits.
func validPIN(pin string) bool {
	if len(pin) != 8 {
		return false
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// The account.

// Account states (protocol.RemoteState…).
const (
	remoteStatePassword   = "password"
	remoteStateActivation = "activation"
	remoteStateOTP        = "otp"
	remoteStateActive     = "active"
)

// remoteAccount is a row of remote_accounts.
type remoteAccount struct {
	userID                         string
	holderID                       int64
	state                          string
	passwordHash, pinHash, pukHash string
	passwordFailures, pinFailures  int
	otpFailures, pukFailures       int
	otpKey                         sql.NullString
	otpLastStep                    int64
	checks                         int
	checksAt                       int64
	phone                          string
	smsCode                        sql.NullString // the last code sent by SMS, sealed
	smsExpires                     int64
	emergencyHash                  string
	emergencyFailures              int
	passwordTemporary              bool // set by the operator's unlock: to change before anything else
}

func loadAccount(q querier, userID string) (*remoteAccount, error) {
	r := &remoteAccount{userID: userID}
	err := q.QueryRow(`SELECT holder_id, state, password_hash, pin_hash, puk_hash, password_failures, pin_failures, otp_failures, puk_failures,
		otp_key, otp_last_step, checks, checks_at, phone, sms_code, sms_expires, emergency_hash, emergency_failures, password_temporary
		FROM remote_accounts WHERE user_id = ?`+forUpdate(q), userID).
		Scan(&r.holderID, &r.state, &r.passwordHash, &r.pinHash, &r.pukHash, &r.passwordFailures, &r.pinFailures, &r.otpFailures, &r.pukFailures,
			&r.otpKey, &r.otpLastStep, &r.checks, &r.checksAt, &r.phone, &r.smsCode, &r.smsExpires, &r.emergencyHash, &r.emergencyFailures, &r.passwordTemporary)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoAccount
	}
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	return r, nil
}

// errNoAccount: no remote account has the user ID.
var errNoAccount = errors.New("ca: no remote holder with that user ID")

func userSubject(userID string) string { return "remote:" + userID }

// clockNow is remote signing's time.
func (a *Authority) clockNow() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now()
}
