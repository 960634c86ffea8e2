package pkcs

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paraphe/paraphe/internal/atomicfile"
	"github.com/paraphe/paraphe/internal/kdfcost"
	"github.com/zalando/go-keyring"
	"golang.org/x/crypto/argon2"
)

// KeychainStore keeps software keys for hosts without a token.
//
// The operating system keychain (macOS Keychain, Windows Credential Manager,
// Secret Service on Linux) holds, per key, a random 32-byte wrapping key and
// the count of wrong PINs; Credential Manager caps a secret at 2,560 bytes,
// so the key itself lives in Dir as PKCS#8 sealed with AES-256-GCM under
// HMAC-SHA256(wrapping key, Argon2id(PIN, salt)). Neither the file without
// the keychain nor the keychain without the PIN opens the key, and the
// wrong-PIN counter sits where the file's owner cannot simply reset it.
//
// Every try of a PIN holds a lock file beside the key (id.lock), which
// excludes other processes and goroutines alike, and is counted in the
// keychain before the PIN is tried: however many processes try at once,
// and even one killed in the middle, MaxAttempts wrong PINs lock the key.
type KeychainStore struct {
	Dir         string // key and certificate files, private to the user
	MaxAttempts int    // wrong PINs in a row before the key locks; 0 means 5
}

// Close does nothing: a keychain store keeps nothing open between calls.
func (s *KeychainStore) Close() error { return nil }

// keychainService is the service name of Paraphe's keychain entries.
const keychainService = "paraphe"

// NewKeychainStore returns a store keeping its files in dir.
func NewKeychainStore(dir string, maxAttempts int) *KeychainStore {
	return &KeychainStore{Dir: dir, MaxAttempts: maxAttempts}
}

func (s *KeychainStore) Name() string { return KeychainName }

type sealedKey struct {
	Version int    `json:"version"`
	ID      string `json:"id"`
	KeyType string `json:"key_type"`
	Salt    []byte `json:"salt"`
	Time    uint32 `json:"argon2_time"`
	Memory  uint32 `json:"argon2_memory_kib"`
	Threads uint8  `json:"argon2_threads"`
	Nonce   []byte `json:"nonce"`
	Sealed  []byte `json:"sealed"`
	// WrapID names the wrapping key the file is sealed under ("" for keys
	// made before PIN changes re-sealed them).
	WrapID string `json:"wrap_id,omitempty"`
}

type keychainSecret struct {
	Wrap     []byte `json:"wrap"`
	WrapID   string `json:"wrap_id,omitempty"`
	Failures int    `json:"failures"`
	// Next is the wrapping key of a PIN change under way: the key file is
	// sealed under Wrap or, once rewritten, under Next.
	Next *nextWrap `json:"next,omitempty"`
}

type nextWrap struct {
	Wrap   []byte `json:"wrap"`
	WrapID string `json:"wrap_id"`
}

// newWrap returns a random wrapping key and its name.
func newWrap() ([]byte, string) {
	w, name := make([]byte, 32), make([]byte, 8)
	rand.Read(w)
	rand.Read(name)
	return w, fmt.Sprintf("%x", name)
}

// wrapFor returns the wrapping key file k is sealed under, or an error
// wrapping ErrKeyFileStale when the keychain no longer has it: the file is
// a copy from before a PIN change.
func (sec *keychainSecret) wrapFor(k *sealedKey) ([]byte, error) {
	switch {
	case k.WrapID == sec.WrapID:
		return sec.Wrap, nil
	case sec.Next != nil && k.WrapID == sec.Next.WrapID:
		return sec.Next.Wrap, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrKeyFileStale, k.ID)
}

func (s *KeychainStore) attempts() int {
	if s.MaxAttempts <= 0 {
		return 5
	}
	return s.MaxAttempts
}

func (s *KeychainStore) path(id, ext string) string { return filepath.Join(s.Dir, id+ext) }

// validID accepts only what KeyID produces (16 lower-case hex digits), so
// an ID can never name another file.
func validID(id string) error {
	if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return nil
}

func (s *KeychainStore) getSecret(id string) (*keychainSecret, error) {
	v, err := keyring.Get(keychainService, id)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is not in the keychain", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeychainUnavailable, err)
	}
	var sec keychainSecret
	raw, err := base64.StdEncoding.DecodeString(v)
	if err == nil {
		err = json.Unmarshal(raw, &sec)
	}
	if err != nil || len(sec.Wrap) != 32 || (sec.Next != nil && len(sec.Next.Wrap) != 32) {
		return nil, fmt.Errorf("pkcs: keychain entry of %s is damaged", id)
	}
	return &sec, nil
}

func (s *KeychainStore) setSecret(id string, sec *keychainSecret) error {
	raw, _ := json.Marshal(sec)
	if err := keyring.Set(keychainService, id, base64.StdEncoding.EncodeToString(raw)); err != nil {
		return fmt.Errorf("%w: %v", ErrKeychainUnavailable, err)
	}
	return nil
}

// sealKey derives the AES key from the wrapping key and the PIN.
func sealKey(wrap, pin []byte, k *sealedKey) []byte {
	stretched := argon2.IDKey(pin, k.Salt, k.Time, k.Memory, k.Threads, 32)
	m := hmac.New(sha256.New, wrap)
	m.Write(stretched)
	return m.Sum(nil)
}

func (k *sealedKey) aad() []byte { return []byte("paraphe keychain key v1 " + k.ID + " " + k.KeyType) }

func seal(wrap, pin, pkcs8 []byte, k *sealedKey) error {
	k.Salt = make([]byte, 16)
	k.Nonce = make([]byte, 12)
	rand.Read(k.Salt)
	rand.Read(k.Nonce)
	// Argon2id's parameters for the PIN (internal/kdfcost), stored with
	// each key so that they can change.
	c := kdfcost.Keychain
	k.Version, k.Time, k.Memory, k.Threads = 1, c.Time, c.MemoryKiB, c.Threads
	block, err := aes.NewCipher(sealKey(wrap, pin, k))
	if err != nil {
		return err
	}
	gcm, _ := cipher.NewGCM(block)
	k.Sealed = gcm.Seal(nil, k.Nonce, pkcs8, k.aad())
	return nil
}

func unseal(wrap, pin []byte, k *sealedKey) ([]byte, error) {
	block, err := aes.NewCipher(sealKey(wrap, pin, k))
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(k.Nonce))
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, k.Nonce, k.Sealed, k.aad())
}

// Generate creates a software key, stores its wrapping key in the keychain
// and its sealed form in Dir.
func (s *KeychainStore) Generate(keyType string, pin []byte) (*Key, error) {
	signer, err := generateSoftware(keyType)
	if err != nil {
		return nil, err
	}
	if keyType == "" {
		keyType = ECDSAP256
	}
	return s.keep(signer, keyType, pin)
}

// Import keeps an existing key and its chain.
func (s *KeychainStore) Import(signer crypto.Signer, chain []*x509.Certificate, pin []byte) (*Key, error) {
	key, err := s.keep(signer, keyTypeOf(signer.Public()), pin)
	if err != nil {
		return nil, err
	}
	if err := s.SetChain(key.ID, chain); err != nil {
		s.Delete(key.ID)
		return nil, err
	}
	key.Chain = chain
	return key, nil
}

func keyTypeOf(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ecdsa-" + strings.ToLower(strings.ReplaceAll(k.Curve.Params().Name, "-", ""))
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	}
	return "unknown"
}

// keep seals signer in Dir under a new wrapping key in the keychain.
func (s *KeychainStore) keep(signer crypto.Signer, keyType string, pin []byte) (*Key, error) {
	id, err := KeyID(signer.Public())
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	defer clear(pkcs8)
	sec := &keychainSecret{}
	sec.Wrap, sec.WrapID = newWrap()
	sk := &sealedKey{ID: id, KeyType: keyType, WrapID: sec.WrapID}
	if err := seal(sec.Wrap, pin, pkcs8, sk); err != nil {
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	if err := s.setSecret(id, sec); err != nil {
		return nil, err
	}
	data, _ := json.MarshalIndent(sk, "", "  ")
	if err := atomicfile.Write(s.path(id, ".key"), data, 0o600); err != nil {
		keyring.Delete(keychainService, id)
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	return &Key{Entry: Entry{ID: id, Store: s.Name()}, signer: signer}, nil
}

func (s *KeychainStore) readSealed(id string) (*sealedKey, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.path(id, ".key"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	var sk sealedKey
	if err := json.Unmarshal(data, &sk); err != nil || sk.Version != 1 || sk.ID != id ||
		sk.Time < 1 || sk.Time > 16 || sk.Threads < 1 || sk.Memory < 8*1024 || sk.Memory > 1024*1024 {
		return nil, fmt.Errorf("pkcs: key file of %s is damaged", id)
	}
	return &sk, nil
}

// Open unlocks key id. A wrong PIN returns a *WrongPINError; after
// MaxAttempts wrong PINs in a row the key is locked (ErrLocked) for good.
// A key file older than its keychain entry (a copy from before a PIN
// change) returns an error wrapping ErrKeyFileStale, and costs no try.
func (s *KeychainStore) Open(id string, pin []byte) (*Key, error) {
	if _, err := s.readSealed(id); err != nil {
		return nil, err // before creating a lock file for a key that is not there
	}
	release, err := s.lock(id)
	if err != nil {
		return nil, err
	}
	pkcs8, _, _, err := s.unlock(id, pin)
	release()
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	priv, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("pkcs: key %s: %w", id, err)
	}
	cs, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("pkcs: key %s is not a signing key", id)
	}
	chain, err := s.readChain(id)
	if err != nil {
		return nil, err
	}
	return &Key{Entry: Entry{ID: id, Store: s.Name(), Chain: chain}, signer: cs}, nil
}

// lock takes key id's lock file (every read and write of its counter and
// sealed file happens under it) and returns its release.
func (s *KeychainStore) lock(id string) (func(), error) {
	f, err := lockFile(s.path(id, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	return func() { unlockFile(f) }, nil
}

// unlock checks the PIN against the counter and returns the PKCS#8 bytes
// and the keychain entry. The caller holds the key's lock.
func (s *KeychainStore) unlock(id string, pin []byte) ([]byte, *sealedKey, *keychainSecret, error) {
	sk, err := s.readSealed(id)
	if err != nil {
		return nil, nil, nil, err
	}
	sec, err := s.getSecret(id)
	if err != nil {
		return nil, nil, nil, err
	}
	if sec.Failures >= s.attempts() {
		return nil, nil, nil, &LockedError{Store: s.Name()}
	}
	wrap, err := sec.wrapFor(sk)
	if err != nil {
		return nil, nil, nil, err // no PIN can open it: no try spent
	}
	// The try is counted before it is made: a process killed while
	// Argon2id runs has spent it.
	sec.Failures++
	if err := s.setSecret(id, sec); err != nil {
		return nil, nil, nil, err
	}
	crash("counted")
	pkcs8, err := unseal(wrap, pin, sk)
	if err != nil {
		return nil, nil, nil, &WrongPINError{Store: s.Name(), TriesLeft: s.attempts() - sec.Failures}
	}
	sec.Failures = 0
	if sec.Next != nil {
		// A PIN change stopped halfway: finish it (the file is sealed
		// under the new key) or forget it (under the old one).
		if sk.WrapID == sec.Next.WrapID {
			sec.Wrap, sec.WrapID = sec.Next.Wrap, sec.Next.WrapID
		}
		sec.Next = nil
	}
	if err := s.setSecret(id, sec); err != nil {
		clear(pkcs8)
		return nil, nil, nil, err
	}
	return pkcs8, sk, sec, nil
}

// crash, when set (by tests), runs at the named points of a PIN check or
// change: a test process that exits there shows what a crash leaves.
var crash = func(point string) {}

// ChangePIN re-seals key id under a new PIN and a new wrapping key, so that
// a copy of the key file made before the change opens no more, with any
// PIN. The caller checks newPIN against the PIN policy.
//
// The steps survive a crash between any two of them: the new wrapping key
// joins the keychain entry beside the current one; the key file is
// replaced (written aside, then renamed) by one sealed under the new key
// and PIN; the entry keeps the new key only. Until that last step the file
// names the key it is sealed under, and the next unlock finishes the work.
func (s *KeychainStore) ChangePIN(id string, oldPIN, newPIN []byte) error {
	if _, err := s.readSealed(id); err != nil {
		return err
	}
	release, err := s.lock(id)
	if err != nil {
		return err
	}
	defer release()
	pkcs8, sk, sec, err := s.unlock(id, oldPIN)
	if err != nil {
		return err
	}
	defer clear(pkcs8)
	next := &nextWrap{}
	next.Wrap, next.WrapID = newWrap()
	sec.Next = next
	if err := s.setSecret(id, sec); err != nil {
		return err
	}
	crash("next-stored")
	sk.WrapID = next.WrapID
	if err := seal(next.Wrap, newPIN, pkcs8, sk); err != nil {
		return fmt.Errorf("pkcs: %w", err)
	}
	data, _ := json.MarshalIndent(sk, "", "  ")
	if err := atomicfile.Write(s.path(id, ".key"), data, 0o600); err != nil {
		return fmt.Errorf("pkcs: %w", err)
	}
	crash("file-written")
	sec.Wrap, sec.WrapID, sec.Next = next.Wrap, next.WrapID, nil
	return s.setSecret(id, sec)
}

// SetChain stores the chain of key id as PEM beside the key.
func (s *KeychainStore) SetChain(id string, chain []*x509.Certificate) error {
	if _, err := s.readSealed(id); err != nil {
		return err
	}
	var buf []byte
	for _, c := range chain {
		buf = append(buf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return atomicfile.Write(s.path(id, ".pem"), buf, 0o644)
}

func (s *KeychainStore) readChain(id string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(s.path(id, ".pem"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs: %w", err)
	}
	return ParsePEMCertificates(data)
}

// List returns the keys in Dir with their chains. It does not touch the
// keychain, so it works even where the keychain is locked or absent.
func (s *KeychainStore) List() ([]Entry, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.key"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Entry
	for _, n := range names {
		id := strings.TrimSuffix(filepath.Base(n), ".key")
		chain, err := s.readChain(id)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{ID: id, Store: s.Name(), Chain: chain})
	}
	return out, nil
}

// Delete removes key id from Dir and the keychain.
func (s *KeychainStore) Delete(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	err := keyring.Delete(keychainService, id)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("%w: %v", ErrKeychainUnavailable, err)
	}
	for _, ext := range []string{".key", ".pem", ".lock"} {
		if err := os.Remove(s.path(id, ext)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pkcs: %w", err)
		}
	}
	return nil
}

// ParsePEMCertificates reads every CERTIFICATE block of data.
func ParsePEMCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pkcs: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Check reports whether the keychain answers, without changing it; it
// returns an error wrapping ErrKeychainUnavailable when it does not.
func (s *KeychainStore) Check() error {
	_, err := keyring.Get(keychainService, "paraphe-probe")
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrKeychainUnavailable, err)
}
