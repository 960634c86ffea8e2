//go:build cgo

package pkcs

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// A PKCS#11 module is loaded and initialised once per process, whatever
// the number of stores opened on it; sessions are pooled per token.
//
// Login in PKCS#11 is per application and token: once a session is logged
// in, every session of the process on that token is. The pool therefore
// logs in once, and each signature borrows a session, so signers are safe
// for concurrent use without serialising on one session.
var modules struct {
	sync.Mutex
	byPath map[string]*pkcs11.Ctx
}

func loadModule(path string) (*pkcs11.Ctx, error) {
	modules.Lock()
	defer modules.Unlock()
	if ctx, ok := modules.byPath[path]; ok {
		return ctx, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrModule, path, err)
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%w: %s is not a PKCS#11 library", ErrModule, path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		return nil, fmt.Errorf("%w: %s: %v", ErrModule, path, err)
	}
	if modules.byPath == nil {
		modules.byPath = map[string]*pkcs11.Ctx{}
	}
	modules.byPath[path] = ctx
	return ctx, nil
}

func isCode(err error, codes ...uint) bool {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if uint(e) == c {
			return true
		}
	}
	return false
}

// tokenErr maps removal codes to ErrTokenRemoved: a token pulled out gives
// DEVICE_REMOVED or an invalid session; one pulled out and put back (or
// emptied meanwhile) gives handles to objects that no longer exist.
func tokenErr(op string, err error) error {
	if isCode(err, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_SESSION_HANDLE_INVALID,
		pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
		pkcs11.CKR_OBJECT_HANDLE_INVALID, pkcs11.CKR_KEY_HANDLE_INVALID) {
		return fmt.Errorf("%w (%s: %v)", ErrTokenRemoved, op, err)
	}
	return fmt.Errorf("pkcs: %s: %w", op, err)
}

func tokenInfo(ctx *pkcs11.Ctx, slot uint) (TokenInfo, error) {
	ti, err := ctx.GetTokenInfo(slot)
	if err != nil {
		return TokenInfo{}, tokenErr("token info", err)
	}
	return TokenInfo{
		Slot: slot, Label: strings.TrimSpace(ti.Label), Serial: strings.TrimSpace(ti.SerialNumber),
		Manufacturer: strings.TrimSpace(ti.ManufacturerID), Model: strings.TrimSpace(ti.Model),
		PINLow:      ti.Flags&pkcs11.CKF_USER_PIN_COUNT_LOW != 0,
		PINFinalTry: ti.Flags&pkcs11.CKF_USER_PIN_FINAL_TRY != 0,
		PINLocked:   ti.Flags&pkcs11.CKF_USER_PIN_LOCKED != 0,
	}, nil
}

// ListTokens lists the initialised tokens present in the module's slots.
func ListTokens(module string) ([]TokenInfo, error) {
	ctx, err := loadModule(module)
	if err != nil {
		return nil, err
	}
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return nil, tokenErr("slot list", err)
	}
	var out []TokenInfo
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		info, err := tokenInfo(ctx, s)
		if err == nil {
			out = append(out, info)
		}
	}
	return out, nil
}

// TokenStore keeps keys on one PKCS#11 token: generated there, sensitive and
// never extractable, each beside its certificate objects (same CKA_ID).
type TokenStore struct {
	Module string
	Info   TokenInfo

	ctx *pkcs11.Ctx
	mu  sync.Mutex
	// pool holds idle sessions once logged in; nil before.
	pool chan pkcs11.SessionHandle
}

// OpenToken opens the token whose label or serial number is token in the
// module; with token empty, the only token present. Several tokens and no
// name give an *AmbiguousTokenError listing them.
func OpenToken(module, token string) (*TokenStore, error) {
	ctx, err := loadModule(module)
	if err != nil {
		return nil, err
	}
	tokens, err := ListTokens(module)
	if err != nil {
		return nil, err
	}
	var match []TokenInfo
	for _, t := range tokens {
		if token == "" || t.Label == token || t.Serial == token {
			match = append(match, t)
		}
	}
	switch {
	case len(match) == 0 && token != "":
		return nil, fmt.Errorf("%w: none is labelled %q", ErrNoToken, token)
	case len(match) == 0:
		return nil, ErrNoToken
	case len(match) > 1:
		return nil, &AmbiguousTokenError{Tokens: match}
	}
	return &TokenStore{Module: module, Info: match[0], ctx: ctx}, nil
}

func (s *TokenStore) Name() string { return TokenName }

const poolSize = 4

// login opens the session pool and logs the user in with pin, once for
// the process: PKCS#11 keeps a login per application and token, shared
// by every store open on it, and a logout (which a second login needs)
// ends the handles of every private key opened before, this store's and
// the others'. So a PIN is checked against the one that logged in, which
// the token accepted; only another PIN, wrong or not, goes to the token
// (log out, log in), which counts it if wrong: otherwise, once someone
// had typed the right PIN, any PIN would pass, or a wrong one would be
// tried without the token knowing.
func (s *TokenStore) login(pin []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.login1()
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.pool != nil {
		sh := <-s.pool
		defer func() { s.pool <- sh }()
		return s.ensureLogin(l, sh, pin)
	}
	first, err := s.ctx.OpenSession(s.Info.Slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return tokenErr("open session", err)
	}
	if err := s.ensureLogin(l, first, pin); err != nil {
		s.ctx.CloseSession(first)
		return err
	}
	l.stores++
	pool := make(chan pkcs11.SessionHandle, poolSize)
	pool <- first
	for range poolSize - 1 {
		sh, err := s.ctx.OpenSession(s.Info.Slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			break // a token with few sessions: use what it gives
		}
		pool <- sh
	}
	s.pool = pool
	return nil
}

// ensureLogin leaves the token logged in with pin: as it is when pin is
// the PIN it was logged in with and it still is (a token taken out and
// put back is not); otherwise logged in now, or out and in again when
// logged in with what may be another PIN.
func (s *TokenStore) ensureLogin(l *tokenLogin, sh pkcs11.SessionHandle, pin []byte) error {
	if l.is(pin) && s.sessionLoggedIn(sh) {
		return nil
	}
	err := s.ctx.Login(sh, pkcs11.CKU_USER, string(pin))
	switch {
	case isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN):
		err = s.relogin(sh, pin)
	case err != nil:
		err = s.pinErr(err)
	}
	if err != nil {
		l.forget()
		return err
	}
	l.set(pin)
	return nil
}

// sessionLoggedIn says whether sh is in a user's state.
func (s *TokenStore) sessionLoggedIn(sh pkcs11.SessionHandle) bool {
	si, err := s.ctx.GetSessionInfo(sh)
	return err == nil && (si.State == pkcs11.CKS_RO_USER_FUNCTIONS || si.State == pkcs11.CKS_RW_USER_FUNCTIONS)
}

// relogin checks pin on a token already logged in: log out, log in.
func (s *TokenStore) relogin(sh pkcs11.SessionHandle, pin []byte) error {
	if err := s.ctx.Logout(sh); err != nil && !isCode(err, pkcs11.CKR_USER_NOT_LOGGED_IN) {
		return tokenErr("logout", err)
	}
	err := s.ctx.Login(sh, pkcs11.CKU_USER, string(pin))
	if isCode(err, pkcs11.CKR_GENERAL_ERROR) {
		// A token that answered a moment ago and now fails outright has
		// gone (SoftHSM says so of a deleted token).
		return fmt.Errorf("%w (login: %v)", ErrTokenRemoved, err)
	}
	if err != nil {
		return s.pinErr(err)
	}
	return nil
}

// login1 is what the process knows of the login on this store's token.
func (s *TokenStore) login1() *tokenLogin {
	logins.Lock()
	defer logins.Unlock()
	ref := tokenRef{module: s.Module, serial: s.Info.Serial, slot: s.Info.Slot}
	l, ok := logins.byToken[ref]
	if !ok {
		if logins.byToken == nil {
			logins.byToken = map[tokenRef]*tokenLogin{}
		}
		l = &tokenLogin{}
		logins.byToken[ref] = l
	}
	return l
}

// logins holds, per token, the login every store of the process on it
// shares.
var logins struct {
	sync.Mutex
	byToken map[tokenRef]*tokenLogin
}

type tokenRef struct {
	module, serial string
	slot           uint
}

// tokenLogin is a token's login: how many stores are logged in on it, and
// a keyed hash of the PIN it was logged in with (nil when it may not be):
// not the PIN, which the process does not keep.
type tokenLogin struct {
	mu     sync.Mutex // one login, logout or check at a time on the token
	stores int
	mac    []byte
}

// pinKey keys the hashes of PINs, for this process only.
var pinKey = sync.OnceValue(func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
})

func pinMAC(pin []byte) []byte {
	m := hmac.New(sha256.New, pinKey())
	m.Write(pin)
	return m.Sum(nil)
}

func (l *tokenLogin) is(pin []byte) bool { return l.mac != nil && hmac.Equal(l.mac, pinMAC(pin)) }
func (l *tokenLogin) set(pin []byte)     { l.mac = pinMAC(pin) }
func (l *tokenLogin) forget()            { l.mac = nil }

// pinErr turns a login or PIN-change failure into WrongPINError or ErrLocked,
// with what the token says of the tries left.
func (s *TokenStore) pinErr(err error) error {
	switch {
	case isCode(err, pkcs11.CKR_PIN_LOCKED):
		return &LockedError{Store: s.Name()}
	case isCode(err, pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_INVALID):
		e := &WrongPINError{Store: s.Name(), TriesLeft: -1}
		if info, ierr := tokenInfo(s.ctx, s.Info.Slot); ierr == nil {
			switch {
			case info.PINLocked:
				e.TriesLeft = 0
			case info.PINFinalTry:
				e.TriesLeft = 1
			case info.PINLow:
				e.Low = true
			}
		}
		return e
	}
	return tokenErr("login", err)
}

// loginSession logs in with pin and borrows a session; put it back with release.
func (s *TokenStore) loginSession(pin []byte) (pkcs11.SessionHandle, error) {
	if err := s.login(pin); err != nil {
		return 0, err
	}
	return s.session()
}

// session borrows a logged-in session; put it back with release.
func (s *TokenStore) session() (pkcs11.SessionHandle, error) {
	s.mu.Lock()
	pool := s.pool
	s.mu.Unlock()
	if pool == nil {
		return 0, ErrNotLoggedIn
	}
	return <-pool, nil
}

func (s *TokenStore) release(sh pkcs11.SessionHandle) { s.pool <- sh }

// Close closes the store's sessions; the last store logged in on the
// token logs it out (keys opened from any store on it sign no more),
// others leave it logged in for the stores still open.
func (s *TokenStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pool == nil {
		return nil
	}
	l := s.login1()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stores--
	last := l.stores == 0
	for i := 0; i < cap(s.pool); i++ {
		select {
		case sh := <-s.pool:
			if i == 0 && last {
				s.ctx.Logout(sh)
				l.forget()
			}
			s.ctx.CloseSession(sh)
		default:
		}
	}
	s.pool = nil
	return nil
}

var (
	oidP256Params, _ = asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
)

// Generate creates a key pair on the token: the private key sensitive, not
// extractable, for signing only.
func (s *TokenStore) Generate(keyType string, pin []byte) (*Key, error) {
	sh, err := s.loginSession(pin)
	if err != nil {
		return nil, err
	}
	defer s.release(sh)
	return s.generate(sh, keyType)
}

// NewKey is Generate on a store logged in with Login, without a PIN: for
// a server that logs in once and keeps several keys open.
func (s *TokenStore) NewKey(keyType string) (*Key, error) {
	return s.loggedIn(func(sh pkcs11.SessionHandle) (*Key, error) { return s.generate(sh, keyType) })
}

// loggedIn runs f on a session of a store logged in, without logging in
// again.
func (s *TokenStore) loggedIn(f func(pkcs11.SessionHandle) (*Key, error)) (*Key, error) {
	sh, err := s.session()
	if err != nil {
		return nil, err
	}
	defer s.release(sh)
	return f(sh)
}

func (s *TokenStore) generate(sh pkcs11.SessionHandle, keyType string) (*Key, error) {
	tmpID := []byte("paraphe-new-key")
	pubTmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_ID, tmpID),
	}
	privTmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, tmpID),
	}
	var mech uint
	switch keyType {
	case ECDSAP256, "":
		mech = pkcs11.CKM_EC_KEY_PAIR_GEN
		pubTmpl = append(pubTmpl, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256Params))
	case RSA3072:
		mech = pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN
		pubTmpl = append(pubTmpl, pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 3072),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
	default:
		return nil, fmt.Errorf("pkcs: unknown key type %q", keyType)
	}
	pubH, privH, err := s.ctx.GenerateKeyPair(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, pubTmpl, privTmpl)
	if err != nil {
		return nil, tokenErr("generate key pair", err)
	}
	pub, err := s.publicKey(sh, pubH)
	if err != nil {
		s.ctx.DestroyObject(sh, pubH)
		s.ctx.DestroyObject(sh, privH)
		return nil, err
	}
	id, _ := KeyID(pub)
	for _, h := range []pkcs11.ObjectHandle{pubH, privH} {
		if err := s.ctx.SetAttributeValue(sh, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id)),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, "Paraphe "+id),
		}); err != nil {
			s.ctx.DestroyObject(sh, pubH)
			s.ctx.DestroyObject(sh, privH)
			return nil, tokenErr("label key", err)
		}
	}
	return &Key{Entry: Entry{ID: id, Store: s.Name()}, signer: &tokenSigner{s: s, priv: privH, pub: pub}}, nil
}

// publicKey reads a public key object.
func (s *TokenStore) publicKey(sh pkcs11.SessionHandle, h pkcs11.ObjectHandle) (crypto.PublicKey, error) {
	attrs, err := s.ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil {
		return nil, tokenErr("read public key", err)
	}
	switch bytesToUint(attrs[0].Value) {
	case pkcs11.CKK_EC:
		a, err := s.ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, nil), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
		if err != nil {
			return nil, tokenErr("read EC key", err)
		}
		if !bytes.Equal(a[0].Value, oidP256Params) {
			return nil, errors.New("pkcs: the token key is on a curve other than P-256")
		}
		var point []byte
		if _, err := asn1.Unmarshal(a[1].Value, &point); err != nil {
			point = a[1].Value // some modules return the raw point
		}
		x, y := elliptic.Unmarshal(elliptic.P256(), point)
		if x == nil {
			return nil, errors.New("pkcs: the token returned an invalid EC point")
		}
		return &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, nil
	case pkcs11.CKK_RSA:
		a, err := s.ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil {
			return nil, tokenErr("read RSA key", err)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(a[0].Value), E: int(new(big.Int).SetBytes(a[1].Value).Int64())}, nil
	}
	return nil, errors.New("pkcs: the token key is neither EC nor RSA")
}

func bytesToUint(b []byte) uint {
	var v uint
	for i := len(b) - 1; i >= 0; i-- { // PKCS#11 CK_ULONG in host (little-endian) order
		v = v<<8 | uint(b[i])
	}
	return v
}

func (s *TokenStore) find(sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := s.ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, tokenErr("find objects", err)
	}
	defer s.ctx.FindObjectsFinal(sh)
	var out []pkcs11.ObjectHandle
	for {
		hs, _, err := s.ctx.FindObjects(sh, 64)
		if err != nil {
			return nil, tokenErr("find objects", err)
		}
		if len(hs) == 0 {
			return out, nil
		}
		out = append(out, hs...)
	}
}

// SetChain stores the chain as certificate objects carrying the key's CKA_ID,
// replacing any the key had.
func (s *TokenStore) SetChain(id string, chain []*x509.Certificate) error {
	sh, err := s.session()
	if err != nil {
		return err
	}
	defer s.release(sh)
	old, err := s.find(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id))})
	if err != nil {
		return err
	}
	for i, c := range chain {
		category := 1 // token user
		label := "Paraphe " + id
		if i > 0 {
			category = 2 // authority
			label = c.Subject.CommonName
		}
		_, err := s.ctx.CreateObject(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_CATEGORY, category),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, false),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id)),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, c.RawSubject),
			pkcs11.NewAttribute(pkcs11.CKA_ISSUER, c.RawIssuer),
			pkcs11.NewAttribute(pkcs11.CKA_SERIAL_NUMBER, mustMarshal(c.SerialNumber)),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, c.Raw),
		})
		if err != nil {
			return tokenErr("store certificate", err)
		}
	}
	for _, h := range old {
		s.ctx.DestroyObject(sh, h)
	}
	return nil
}

func mustMarshal(v any) []byte {
	b, _ := asn1.Marshal(v)
	return b
}

// chainOf reads the certificate objects of key id and orders them leaf first.
func (s *TokenStore) chainOf(sh pkcs11.SessionHandle, id []byte) ([]*x509.Certificate, error) {
	hs, err := s.find(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE), pkcs11.NewAttribute(pkcs11.CKA_ID, id)})
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for _, h := range hs {
		a, err := s.ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return nil, tokenErr("read certificate", err)
		}
		c, err := x509.ParseCertificate(a[0].Value)
		if err != nil {
			continue // not ours to judge; skip what does not parse
		}
		certs = append(certs, c)
	}
	return orderChain(certs), nil
}

// orderChain puts the leaf (the one certificate that issues none of the
// others) first and follows issuers from there.
func orderChain(certs []*x509.Certificate) []*x509.Certificate {
	if len(certs) < 2 {
		return certs
	}
	issues := func(a, b *x509.Certificate) bool {
		return bytes.Equal(b.RawIssuer, a.RawSubject) && !bytes.Equal(a.Raw, b.Raw)
	}
	var leaf *x509.Certificate
	for _, c := range certs {
		isIssuer := false
		for _, o := range certs {
			if issues(c, o) {
				isIssuer = true
			}
		}
		if !isIssuer {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return certs
	}
	out := []*x509.Certificate{leaf}
	for len(out) < len(certs) {
		var next *x509.Certificate
		for _, c := range certs {
			if issues(c, out[len(out)-1]) {
				next = c
			}
		}
		if next == nil {
			break
		}
		out = append(out, next)
	}
	return out
}

// Open logs in with pin and returns key id. The token stays logged in
// for the process: keys opened before, from this store or another on the
// token, still sign. A wrong PIN goes to the token, which counts it, and
// logs it out: after it, those keys sign no more.
func (s *TokenStore) Open(id string, pin []byte) (*Key, error) {
	sh, err := s.loginSession(pin)
	if err != nil {
		return nil, err
	}
	defer s.release(sh)
	return s.open(sh, id)
}

// Key is Open on a store logged in with Login, which it does not log in
// again (see NewKey).
func (s *TokenStore) Key(id string) (*Key, error) {
	return s.loggedIn(func(sh pkcs11.SessionHandle) (*Key, error) { return s.open(sh, id) })
}

func (s *TokenStore) open(sh pkcs11.SessionHandle, id string) (*Key, error) {
	privs, err := s.find(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id))})
	if err != nil {
		return nil, err
	}
	if len(privs) != 1 {
		return nil, fmt.Errorf("%w: %s on token %q", ErrNotFound, id, s.Info.Label)
	}
	chain, err := s.chainOf(sh, []byte(id))
	if err != nil {
		return nil, err
	}
	var pub crypto.PublicKey
	pubs, err := s.find(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id))})
	if err != nil {
		return nil, err
	}
	switch {
	case len(pubs) == 1:
		if pub, err = s.publicKey(sh, pubs[0]); err != nil {
			return nil, err
		}
	case len(chain) > 0:
		pub = chain[0].PublicKey
	default:
		return nil, fmt.Errorf("pkcs: key %s has neither public key nor certificate on the token", id)
	}
	return &Key{Entry: Entry{ID: id, Store: s.Name(), Chain: chain}, signer: &tokenSigner{s: s, priv: privs[0], pub: pub}}, nil
}

// List returns the certificates on the token, grouped by key; it needs no PIN.
func (s *TokenStore) List() ([]Entry, error) {
	sh, err := s.ctx.OpenSession(s.Info.Slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, tokenErr("open session", err)
	}
	defer s.ctx.CloseSession(sh)
	hs, err := s.find(sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE)})
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, h := range hs {
		a, err := s.ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, nil)})
		if err == nil && len(a[0].Value) > 0 {
			ids[string(a[0].Value)] = true
		}
	}
	var out []Entry
	for id := range ids {
		chain, err := s.chainOf(sh, []byte(id))
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{ID: id, Store: s.Name(), Chain: chain})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Delete destroys the key pair and certificates of id; the store must be
// logged in (Open or Generate) since private objects are involved.
func (s *TokenStore) Delete(id string) error {
	sh, err := s.session()
	if err != nil {
		return err
	}
	defer s.release(sh)
	hs, err := s.find(sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id))})
	if err != nil {
		return err
	}
	for _, h := range hs {
		if err := s.ctx.DestroyObject(sh, h); err != nil {
			return tokenErr("delete object", err)
		}
	}
	return nil
}

// ChangePIN changes the token's user PIN (every key on it shares it). A
// login of the process stays, and is the new PIN's from then on.
func (s *TokenStore) ChangePIN(_ string, oldPIN, newPIN []byte) error {
	l := s.login1()
	l.mu.Lock()
	defer l.mu.Unlock()
	sh, err := s.ctx.OpenSession(s.Info.Slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return tokenErr("open session", err)
	}
	defer s.ctx.CloseSession(sh)
	if err := s.ctx.SetPIN(sh, string(oldPIN), string(newPIN)); err != nil {
		return s.pinErr(err)
	}
	if l.mac != nil {
		l.set(newPIN)
	}
	return nil
}

// UnlockPIN resets a blocked (or forgotten) user PIN with the PUK, which on
// a token is the security officer PIN.
func (s *TokenStore) UnlockPIN(puk, newPIN []byte) error {
	l := s.login1()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget() // whatever comes of it, the PIN may be another
	sh, err := s.ctx.OpenSession(s.Info.Slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return tokenErr("open session", err)
	}
	defer s.ctx.CloseSession(sh)
	if err := s.ctx.Login(sh, pkcs11.CKU_SO, string(puk)); err != nil {
		if isCode(err, pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE) {
			return ErrWrongPUK
		}
		if isCode(err, pkcs11.CKR_PIN_LOCKED) {
			return ErrPUKLocked
		}
		return tokenErr("login as security officer", err)
	}
	defer s.ctx.Logout(sh)
	if err := s.ctx.InitPIN(sh, string(newPIN)); err != nil {
		return tokenErr("set new PIN", err)
	}
	return nil
}

// tokenSigner signs on the token with a pooled session.
type tokenSigner struct {
	s    *TokenStore
	priv pkcs11.ObjectHandle
	pub  crypto.PublicKey
}

func (t *tokenSigner) Public() crypto.PublicKey { return t.pub }

// DigestInfo prefixes for PKCS#1 v1.5 (RFC 8017 section 9.2, note 1).
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var pssHash = map[crypto.Hash][2]uint{
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

func (t *tokenSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	var mech *pkcs11.Mechanism
	data := digest
	switch t.pub.(type) {
	case *ecdsa.PublicKey:
		mech = pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			h, ok := pssHash[pss.Hash]
			if !ok {
				return nil, fmt.Errorf("pkcs: RSA-PSS with %v is not supported", pss.Hash)
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
				salt = pss.Hash.Size()
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(h[0], h[1], uint(salt)))
		} else {
			prefix, ok := digestInfoPrefix[opts.HashFunc()]
			if !ok {
				return nil, fmt.Errorf("pkcs: RSA signature over %v is not supported", opts.HashFunc())
			}
			mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)
			data = append(append([]byte{}, prefix...), digest...)
		}
	}
	sh, err := t.s.session()
	if err != nil {
		return nil, err
	}
	defer t.s.release(sh)
	if err := t.s.ctx.SignInit(sh, []*pkcs11.Mechanism{mech}, t.priv); err != nil {
		return nil, tokenErr("sign", err)
	}
	sig, err := t.s.ctx.Sign(sh, data)
	if err != nil {
		return nil, tokenErr("sign", err)
	}
	if _, ok := t.pub.(*ecdsa.PublicKey); ok {
		if len(sig)%2 != 0 {
			return nil, errors.New("pkcs: the token returned a malformed ECDSA signature")
		}
		half := len(sig) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:])})
	}
	return sig, nil
}

// oaepHash is the PKCS#11 names of RSA-OAEP's hash and mask.
var oaepHash = map[crypto.Hash][2]uint{
	crypto.SHA1:   {pkcs11.CKM_SHA_1, pkcs11.CKG_MGF1_SHA1},
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// Decrypt decrypts with the token's RSA key: RSA-OAEP (CKM_RSA_PKCS_OAEP)
// as CMS key transport asks; the key must have been made for it
// (CKA_DECRYPT), which Import does for an encryption certificate.
func (t *tokenSigner) Decrypt(_ io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	o, ok := opts.(*rsa.OAEPOptions)
	if !ok {
		return nil, errors.New("pkcs: a token key decrypts RSA-OAEP only")
	}
	mgf := o.MGFHash
	if mgf == 0 {
		mgf = o.Hash
	}
	h, hok := oaepHash[o.Hash]
	m, mok := oaepHash[mgf]
	if !hok || !mok || len(o.Label) > 0 {
		return nil, fmt.Errorf("pkcs: RSA-OAEP with %v and MGF1 with %v is not supported", o.Hash, mgf)
	}
	mech := pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_OAEP, pkcs11.NewOAEPParams(h[0], m[1], pkcs11.CKZ_DATA_SPECIFIED, nil))
	out, err := t.decrypt(mech, msg)
	if isCode(err, pkcs11.CKR_ARGUMENTS_BAD, pkcs11.CKR_MECHANISM_PARAM_INVALID) && o.Hash != crypto.SHA1 {
		// Many tokens (SoftHSM 2.6 among them) know OAEP with SHA-1 only:
		// the RSA operation on the token, the OAEP decoding here.
		var em []byte
		if em, err = t.decrypt(pkcs11.NewMechanism(pkcs11.CKM_RSA_X_509, nil), msg); err == nil {
			return decodeOAEP(o.Hash, mgf, t.pub.(*rsa.PublicKey), em)
		}
	}
	if err != nil {
		return nil, keyUseErr("decrypt", err)
	}
	return out, nil
}

func (t *tokenSigner) decrypt(mech *pkcs11.Mechanism, msg []byte) ([]byte, error) {
	sh, err := t.s.session()
	if err != nil {
		return nil, err
	}
	defer t.s.release(sh)
	if err := t.s.ctx.DecryptInit(sh, []*pkcs11.Mechanism{mech}, t.priv); err != nil {
		return nil, err
	}
	return t.s.ctx.Decrypt(sh, msg)
}

// ECDH derives the shared secret with peer on the token (CKM_ECDH1_DERIVE,
// no KDF: CMS applies its own), as a session object read once and
// destroyed; the key must have been made for it (CKA_DERIVE).
func (t *tokenSigner) ECDH(peer *ecdh.PublicKey) ([]byte, error) {
	pub, ok := t.pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, ErrNotForDecryption
	}
	size := (pub.Curve.Params().BitSize + 7) / 8
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, size),
	}
	sh, err := t.s.session()
	if err != nil {
		return nil, err
	}
	defer t.s.release(sh)
	mech := pkcs11.NewMechanism(pkcs11.CKM_ECDH1_DERIVE, pkcs11.NewECDH1DeriveParams(pkcs11.CKD_NULL, nil, peer.Bytes()))
	h, err := t.s.ctx.DeriveKey(sh, []*pkcs11.Mechanism{mech}, t.priv, tmpl)
	if err != nil {
		return nil, keyUseErr("derive", err)
	}
	defer t.s.ctx.DestroyObject(sh, h)
	attrs, err := t.s.ctx.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	if err != nil || len(attrs) != 1 || len(attrs[0].Value) != size {
		return nil, tokenErr("read the shared secret", err)
	}
	return attrs[0].Value, nil
}

// keyUseErr is a refused use of a key: ErrNotForDecryption when the
// key's attributes forbid it, the token's error otherwise.
func keyUseErr(op string, err error) error {
	if isCode(err, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED, pkcs11.CKR_KEY_TYPE_INCONSISTENT) {
		return fmt.Errorf("%w: the token keeps this key for signing", ErrNotForDecryption)
	}
	return tokenErr(op, err)
}

// Login checks pin and keeps the token logged in for this store's
// operations, so that a wrong PIN is known before any other work.
func (s *TokenStore) Login(pin []byte) error { return s.login(pin) }

// Import writes an existing key (from a PKCS#12 file) to the token as a
// sensitive, non-extractable key, with its public key and chain: for
// signing, and for decryption too when its certificate is an encryption
// one.
func (s *TokenStore) Import(key crypto.Signer, chain []*x509.Certificate, pin []byte) (*Key, error) {
	if err := s.login(pin); err != nil {
		return nil, err
	}
	id, err := KeyID(key.Public())
	if err != nil {
		return nil, err
	}
	common := func(class uint) []*pkcs11.Attribute {
		return []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(id)),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, "Paraphe "+id),
		}
	}
	priv := append(common(pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true))
	// The key decrypts when its certificate is for encryption (or states
	// no key usage): RSA key transport, or EC key agreement.
	var usage x509.KeyUsage
	if len(chain) > 0 {
		usage = chain[0].KeyUsage
	}
	_, isRSA := key.(*rsa.PrivateKey)
	decrypt := isRSA && (usage == 0 || usage&x509.KeyUsageKeyEncipherment != 0)
	derive := !isRSA && (usage == 0 || usage&x509.KeyUsageKeyAgreement != 0)
	priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, decrypt), pkcs11.NewAttribute(pkcs11.CKA_DERIVE, derive))
	pub := append(common(pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true))
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("pkcs: only P-256 EC keys can be imported")
		}
		point, _ := asn1.Marshal(elliptic.Marshal(k.Curve, k.X, k.Y)) //nolint:staticcheck // the PKCS#11 encoding
		d := make([]byte, 32)
		k.D.FillBytes(d)
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256Params), pkcs11.NewAttribute(pkcs11.CKA_VALUE, d))
		pub = append(pub, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, oidP256Params), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, point))
	case *rsa.PrivateKey:
		k.Precompute()
		e := big.NewInt(int64(k.E)).Bytes()
		priv = append(priv, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE_EXPONENT, k.D.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_1, k.Primes[0].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_PRIME_2, k.Primes[1].Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_1, k.Precomputed.Dp.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_EXPONENT_2, k.Precomputed.Dq.Bytes()),
			pkcs11.NewAttribute(pkcs11.CKA_COEFFICIENT, k.Precomputed.Qinv.Bytes()))
		pub = append(pub, pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_RSA),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, k.N.Bytes()), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, e))
	default:
		return nil, fmt.Errorf("pkcs: a %T cannot be imported to a token", key)
	}
	sh, err := s.session()
	if err != nil {
		return nil, err
	}
	privH, err := s.ctx.CreateObject(sh, priv)
	if err != nil {
		s.release(sh)
		return nil, tokenErr("import key", err)
	}
	if _, err := s.ctx.CreateObject(sh, pub); err != nil {
		s.ctx.DestroyObject(sh, privH)
		s.release(sh)
		return nil, tokenErr("import public key", err)
	}
	s.release(sh)
	if err := s.SetChain(id, chain); err != nil {
		s.Delete(id)
		return nil, err
	}
	return &Key{Entry: Entry{ID: id, Store: s.Name(), Chain: chain}, signer: &tokenSigner{s: s, priv: privH, pub: key.Public()}}, nil
}
