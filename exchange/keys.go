package exchange

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/paraphe/paraphe/exchange/internal/stream"
	"github.com/paraphe/paraphe/internal/atomicfile"
)

// masterKey wraps the documents' and parcels' keys (and the TOTP secrets)
// with AES-256-GCM, each bound to what it belongs to, so that a wrapped
// key moved to another row does not open. It is never in the database (a
// copy of the database, or of the documents' share, reads nothing): it is
// a file of its own, or an AES key on a PKCS#11 token that never leaves
// it (the token then does the sealing).
type masterKey struct {
	version byte   // the first byte of what it wraps: which scheme
	s       sealer // nil: on a token not handed over yet (UseToken)
	root    []byte // of the server's own keys (derive)
}

// sealer seals with AES-GCM, returning the nonce followed by the
// ciphertext.
type sealer interface {
	Seal(plain, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// A TokenKey is the exchange's master key on a PKCS#11 token: a
// pkcs.SecretKey of a pkcs.TokenKeys that the binary opened and logged
// in with the PIN it read (exchange does not import pkcs, whose tests
// use internal/testenv). AES-256-GCM and AES-CMAC are done on the token.
type TokenKey interface {
	sealer
	CMAC(msg []byte) ([]byte, error)
}

// The master key file: a line of base64, 32 bytes.
const masterKeyPrefix = "paraphe-exchange-master-key-1:"

// Wrapping schemes: the first byte of every wrapped key.
const (
	wrappedFile  = 1 // AES-256-GCM with the key of the master key file
	wrappedToken = 2 // AES-256-GCM on the token
)

// ErrMasterKey is returned when the master key file is missing or is not
// one, or the token's key is not the exchange's; ErrUnwrap when a wrapped
// key does not open with it; ErrKeysLocked when the master key is on a
// token not handed over (UseToken).
var (
	ErrMasterKey  = errors.New("exchange: the master key file is missing or damaged")
	ErrUnwrap     = errors.New("exchange: a stored key does not open with the master key")
	ErrKeysLocked = errors.New("exchange: the master key is on a token, not opened (UseToken)")
)

func newMasterKey(path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	k := make([]byte, 32)
	rand.Read(k)
	line := masterKeyPrefix + base64.StdEncoding.EncodeToString(k) + "\n"
	if err := atomicfile.Write(path, []byte(line), 0o600); err != nil {
		return fmt.Errorf("exchange: master key: %w", err)
	}
	return nil
}

func readMasterKey(path string) (*masterKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMasterKey, err)
	}
	b64, ok := strings.CutPrefix(strings.TrimSpace(string(data)), masterKeyPrefix)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%w: %s", ErrMasterKey, path)
	}
	block, _ := aes.NewCipher(raw)
	aead, _ := cipher.NewGCM(block)
	return &masterKey{version: wrappedFile, s: aeadSealer{aead}, root: raw}, nil
}

// aeadSealer seals in memory.
type aeadSealer struct{ aead cipher.AEAD }

func (a aeadSealer) Seal(plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, a.aead.NonceSize())
	rand.Read(nonce)
	return a.aead.Seal(nonce, nonce, plain, aad), nil
}

func (a aeadSealer) Open(sealed, aad []byte) ([]byte, error) {
	ns := a.aead.NonceSize()
	if len(sealed) < ns {
		return nil, ErrUnwrap
	}
	return a.aead.Open(nil, sealed[:ns], sealed[ns:], aad)
}

// tokenCheck is what Init seals with a token's key, so that UseToken
// knows the key again (a wrong token, or another key, is refused before
// anything is wrapped with it).
var tokenCheck = []byte("paraphe-exchange master key check")

// tokenMasterKey is the master key on a token: the server's own keys
// derive from two CMACs of it, the same on every replica.
func tokenMasterKey(k TokenKey) (*masterKey, error) {
	var root []byte
	for _, n := range []string{"1", "2"} {
		mac, err := k.CMAC([]byte("paraphe-exchange root " + n))
		if err != nil {
			return nil, fmt.Errorf("exchange: master key on the token: %w", err)
		}
		root = append(root, mac...)
	}
	return &masterKey{version: wrappedToken, s: k, root: root}, nil
}

// locked reports a master key on a token not handed over yet.
func (m *masterKey) locked() bool { return m.s == nil }

// wrap seals key for the row named by purpose and id ("document", "3f…").
func (m *masterKey) wrap(purpose, id string, key []byte) ([]byte, error) {
	if m.locked() {
		return nil, ErrKeysLocked
	}
	sealed, err := m.s.Seal(key, []byte(purpose+":"+id))
	if err != nil {
		return nil, fmt.Errorf("exchange: master key: %w", err)
	}
	return append([]byte{m.version}, sealed...), nil
}

func (m *masterKey) unwrap(purpose, id string, wrapped []byte) ([]byte, error) {
	if m.locked() {
		return nil, ErrKeysLocked
	}
	if len(wrapped) < 1 || wrapped[0] != m.version {
		return nil, ErrUnwrap
	}
	key, err := m.s.Open(wrapped[1:], []byte(purpose+":"+id))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnwrap, err) // with the token's word, when it is on one
	}
	return key, nil
}

// derive is a key for one use of the server's own (the CSRF tokens'
// HMAC): every replica derives the same from the same master key.
func (m *masterKey) derive(use string) []byte {
	k, err := hkdf.Key(sha256.New, m.root, nil, "paraphe-exchange "+use, 32)
	if err != nil {
		panic(err) // 32 bytes of SHA-256 are always available
	}
	return k
}

// newKey is a fresh stream key.
func newKey() []byte {
	k := make([]byte, stream.KeySize)
	rand.Read(k)
	return k
}

// sealSmall encrypts a small value (the note) with key, bound to id.
func sealSmall(key []byte, id string, plain []byte) []byte {
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, []byte("note:"+id))
}

func openSmall(key []byte, id string, sealed []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, _ := cipher.NewGCM(block)
	ns := aead.NonceSize()
	if len(sealed) < ns {
		return nil, ErrUnwrap
	}
	plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], []byte("note:"+id))
	if err != nil {
		return nil, ErrUnwrap
	}
	return plain, nil
}
