// Package remote is the key store of remote signing: the holder's key
// lives in the CA's HSM and signs, through the CSC API v2, the hashes the
// holder authorises with a PIN and a one-time password (TOTP). Its keys
// are pkcs.Keys like a keychain's or a token's, and what they wrap is a
// pdf.BatchSigner: a batch of PDFs is authorised once, with one PIN and
// one one-time password for all its hashes (SCAL 2).
//
// The store keeps, in a file of the user's Paraphe folder, the account
// (the service's addresses, the user ID) and its credentials'
// certificates, so that listing needs no network; and in the operating
// system's keychain the refresh token of the last sign-in, so that
// signing does not ask the password again. No secret is in the file; the
// PIN and the one-time password are sent once, for one authorisation,
// and kept nowhere.
package remote

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// Name is the store's name (pkcs.Store.Name, the policy's key_stores).
const Name = pkcs.RemoteName

// Errors a caller branches on. Wrong PINs are *pkcs.WrongPINError, a
// blocked PIN *pkcs.LockedError (Store Name), a wrong PUK *PUKError, a
// wrong one-time password *OTPError.
var (
	// ErrNotSignedIn: no account here, or its sign-in has expired.
	ErrNotSignedIn = errors.New("remote: not signed in to remote signing")
	// ErrPasswordChange: the password is the initial one, which must be
	// changed first.
	ErrPasswordChange = errors.New("remote: the initial password must be changed first")
	ErrWrongPassword  = errors.New("remote: wrong user ID or password")
	ErrAccountLocked  = errors.New("remote: the account is locked after too many wrong passwords")
	// ErrNotActivated: the certificate is not activated yet (PUK, new PIN,
	// one-time-password generator).
	ErrNotActivated = errors.New("remote: the remote certificate is not activated yet")
	ErrWrongOTP     = errors.New("remote: wrong one-time password")
	// ErrNoOTP: a signature needs a one-time password and none was given.
	ErrNoOTP = errors.New("remote: no one-time password")
	// ErrPUKLocked: the PUK is blocked too (it matches pkcs.ErrPUKLocked).
	ErrPUKLocked = fmt.Errorf("remote: the PUK is blocked: %w", pkcs.ErrPUKLocked)
	// ErrRenewalPending: the renewal waits for a registration officer's
	// approval (the CA's policy); the request is recorded.
	ErrRenewalPending = errors.New("remote: the renewal awaits a registration officer's approval")
	// ErrPINRule: a new PIN that is not exactly 8 digits.
	ErrPINRule = errors.New("remote: the PIN must be exactly 8 digits")
	// ErrUnreachable: the service did not answer (UnreachableError).
	ErrUnreachable = errors.New("remote: the signing service cannot be reached")
	// ErrMalformedReply: an answer that is not the service's.
	ErrMalformedReply = errors.New("remote: the signing service's reply is not understood")
	// ErrBadSignature: the service returned a signature that the
	// credential's certificate does not verify (nothing is signed with it).
	ErrBadSignature = errors.New("remote: the signing service returned a signature that does not verify")
	// ErrUnsupported: what a remote store does not do (its keys are made
	// by the CA).
	ErrUnsupported = errors.New("remote: remote keys are made by the CA, not on this computer")
)

// Service is where remote signing is: the CSC API's base URL and the
// account API's, as the CA's service document names them.
type Service struct {
	CSC    string `json:"csc"`
	Remote string `json:"remote"`
}

// account is the store's file: no secret in it.
type account struct {
	Service
	UserID      string       `json:"user_id"`
	Credentials []credential `json:"credentials"`
}

// credential is a remote key and its certificate chain (leaf first).
type credential struct {
	ID    string   `json:"credential_id"` // the service's
	Chain [][]byte `json:"chain"`
}

func (c credential) certificates() ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, der := range c.Chain {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("remote: %w", err)
		}
		out = append(out, cert)
	}
	return out, nil
}

// Store is the remote key store of one account.
type Store struct {
	dir    string
	client *http.Client
	// OTP returns the one-time password an authorisation needs, when it
	// is needed (after the batch's digests are known): the command line
	// reads it, the app asks for it.
	OTP func(ctx context.Context) ([]byte, error)

	mu     sync.Mutex
	access string    // the bearer token of this process's sign-in
	until  time.Time // when it expires
}

// New returns the remote store whose file is in dir (the user's Paraphe
// folder), talking through client (the policy's: proxy and anchors).
func New(dir string, client *http.Client) *Store {
	return &Store{dir: dir, client: client}
}

func (s *Store) path() string { return filepath.Join(s.dir, "remote.json") }

// HasAccount reports whether an account is kept here (a sign-in was made).
func (s *Store) HasAccount() bool {
	_, err := os.Stat(s.path())
	return err == nil
}

func (s *Store) load() (*account, error) {
	data, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotSignedIn
	}
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	var a account
	if err := json.Unmarshal(data, &a); err != nil || a.UserID == "" || a.CSC == "" {
		return nil, fmt.Errorf("remote: %s is damaged: sign in again (paraphe remote login)", s.path())
	}
	return &a, nil
}

func (s *Store) save(a *account) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	data, _ := json.MarshalIndent(a, "", "  ")
	if err := atomicfile.Write(s.path(), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	return nil
}

// The refresh token of the account, in the operating system's keychain.
const keychainService = "paraphe remote signing"

func (s *Store) refreshToken(userID string) (string, error) {
	tok, err := keyring.Get(keychainService, userID)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", ErrNotSignedIn
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", pkcs.ErrKeychainUnavailable, err)
	}
	return tok, nil
}

// Name is the store's name.
func (s *Store) Name() string { return Name }

// UserID is the account's user ID, "" when there is none.
func (s *Store) UserID() string {
	a, err := s.load()
	if err != nil {
		return ""
	}
	return a.UserID
}

// Login signs userID in with password at svc; a password still the
// initial one is changed to newPassword (nil: ErrPasswordChange). The
// sign-in is kept (its refresh token in the keychain, the account and its
// certificates in the store's file) for later signatures.
func (s *Store) Login(ctx context.Context, svc Service, userID string, password, newPassword []byte) (*protocol.RemoteAccount, error) {
	var tok protocol.CSCToken
	login := func(pw []byte) error {
		return s.call(ctx, http.MethodPost, svc.CSC+"auth/login", auth{user: userID, password: string(pw)},
			protocol.CSCLogin{RememberMe: true}, &tok)
	}
	err := login(password)
	if errors.Is(err, ErrPasswordChange) && newPassword != nil {
		err = s.call(ctx, http.MethodPost, svc.Remote+"password", auth{user: userID, password: string(password)},
			protocol.RemotePassword{NewPassword: string(newPassword)}, nil)
		if err == nil {
			err = login(newPassword)
		}
	}
	if err != nil {
		return nil, err
	}
	a := &account{Service: svc, UserID: strings.ToUpper(strings.TrimSpace(userID))}
	var acc protocol.RemoteAccount
	if err := s.call(ctx, http.MethodGet, svc.Remote+"account", auth{bearer: tok.AccessToken}, nil, &acc); err != nil {
		return nil, err
	}
	a.UserID = acc.UserID
	if err := keyring.Set(keychainService, a.UserID, tok.RefreshToken); err != nil {
		return nil, fmt.Errorf("%w: %v", pkcs.ErrKeychainUnavailable, err)
	}
	s.mu.Lock()
	s.access, s.until = tok.AccessToken, time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second/2)
	s.mu.Unlock()
	if err := s.refresh(ctx, a); err != nil {
		return nil, err
	}
	return &acc, nil
}

// bearer returns a bearer token for a's account: this process's, or a
// new one from the refresh token.
func (s *Store) bearer(ctx context.Context, a *account) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access != "" && time.Now().Before(s.until) {
		return s.access, nil
	}
	refresh, err := s.refreshToken(a.UserID)
	if err != nil {
		return "", err
	}
	var tok protocol.CSCToken
	if err := s.call(ctx, http.MethodPost, a.CSC+"auth/login", auth{}, protocol.CSCLogin{RefreshToken: refresh}, &tok); err != nil {
		return "", err
	}
	s.access, s.until = tok.AccessToken, time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second/2)
	return s.access, nil
}

// do calls an API of the account with its bearer token.
func (s *Store) do(ctx context.Context, method, url string, in, out any) error {
	a, err := s.load()
	if err != nil {
		return err
	}
	tok, err := s.bearer(ctx, a)
	if err != nil {
		return err
	}
	return s.call(ctx, method, url, auth{bearer: tok}, in, out)
}

// refresh reads the account's credentials again and keeps them.
func (s *Store) refresh(ctx context.Context, a *account) error {
	tok, err := s.bearer(ctx, a)
	if err != nil {
		return err
	}
	var list protocol.CSCList
	if err := s.call(ctx, http.MethodPost, a.CSC+"credentials/list", auth{bearer: tok},
		protocol.CSCListRequest{CredentialInfo: true, Certificates: "chain", CertInfo: true}, &list); err != nil {
		return err
	}
	a.Credentials = nil
	for _, info := range list.CredentialInfos {
		c := credential{ID: info.CredentialID}
		if info.Cert == nil {
			continue
		}
		for _, b := range info.Cert.Certificates {
			der, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return fmt.Errorf("%w: a certificate is not base64", ErrMalformedReply)
			}
			c.Chain = append(c.Chain, der)
		}
		if _, err := c.certificates(); err != nil || len(c.Chain) == 0 {
			return fmt.Errorf("%w: credential %s has no certificate", ErrMalformedReply, c.ID)
		}
		a.Credentials = append(a.Credentials, c)
	}
	return s.save(a)
}

// Account says where the account stands (its state, the tries left).
func (s *Store) Account(ctx context.Context) (*protocol.RemoteAccount, error) {
	a, err := s.load()
	if err != nil {
		return nil, err
	}
	var acc protocol.RemoteAccount
	if err := s.do(ctx, http.MethodGet, a.Remote+"account", nil, &acc); err != nil {
		return nil, err
	}
	return &acc, nil
}

// Activate sets the credential's PIN with the PUK and returns the
// one-time-password generator's key to enrol (then ConfirmOTP).
func (s *Store) Activate(ctx context.Context, puk, newPIN []byte) (*protocol.RemoteOTPSetup, error) {
	a, err := s.load()
	if err != nil {
		return nil, err
	}
	var setup protocol.RemoteOTPSetup
	if err := s.do(ctx, http.MethodPost, a.Remote+"activate", protocol.RemoteActivate{PUK: string(puk), NewPIN: string(newPIN)}, &setup); err != nil {
		return nil, err
	}
	return &setup, nil
}

// ConfirmOTP sends the generator's first code: the certificate is then
// active.
func (s *Store) ConfirmOTP(ctx context.Context, otp []byte) error {
	a, err := s.load()
	if err != nil {
		return err
	}
	if err := s.do(ctx, http.MethodPost, a.Remote+"activate/confirm", protocol.RemoteOTP{OTP: string(otp)}, nil); err != nil {
		return err
	}
	return s.refresh(ctx, a)
}

// List returns the account's certificates, from the store's file.
func (s *Store) List() ([]pkcs.Entry, error) {
	a, err := s.load()
	if errors.Is(err, ErrNotSignedIn) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []pkcs.Entry
	for _, c := range a.Credentials {
		e, err := entryOf(c)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// entryOf is c as the store lists it: its ID is its key's (pkcs.KeyID),
// as other stores' are.
func entryOf(c credential) (pkcs.Entry, error) {
	chain, err := c.certificates()
	if err != nil {
		return pkcs.Entry{}, err
	}
	id, err := pkcs.KeyID(chain[0].PublicKey)
	if err != nil {
		return pkcs.Entry{}, err
	}
	return pkcs.Entry{ID: id, Store: Name, Chain: chain}, nil
}

// find returns the credential whose key's ID is id.
func (s *Store) find(id string) (*account, credential, pkcs.Entry, error) {
	a, err := s.load()
	if err != nil {
		return nil, credential{}, pkcs.Entry{}, err
	}
	for _, c := range a.Credentials {
		if e, err := entryOf(c); err == nil && e.ID == id {
			return a, c, e, nil
		}
	}
	return nil, credential{}, pkcs.Entry{}, fmt.Errorf("%w: %s", pkcs.ErrNotFound, id)
}

// Generate is not offered: remote keys are made by the CA.
func (s *Store) Generate(string, []byte) (*pkcs.Key, error) { return nil, ErrUnsupported }

// SetChain is not offered: the CA keeps the certificates.
func (s *Store) SetChain(string, []*x509.Certificate) error { return ErrUnsupported }

// Delete forgets the account on this computer (its file and its sign-in);
// the key stays in the CA's HSM.
func (s *Store) Delete(id string) error {
	a, _, _, err := s.find(id)
	if err != nil {
		return err
	}
	keyring.Delete(keychainService, a.UserID)
	if err := os.Remove(s.path()); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	return nil
}

// Close keeps nothing open.
func (s *Store) Close() error { return nil }

// GroupKey writes a one-time-password key (base 32) in groups of four,
// as a person types it into their app.
func GroupKey(k string) string {
	var parts []string
	for len(k) > 4 {
		parts = append(parts, k[:4])
		k = k[4:]
	}
	return strings.Join(append(parts, k), " ")
}
