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
// key moved to another row does not open. It lives in its own file, never
// in the database: a copy of the database, or of the documents' share,
// reads nothing. (A key on a PKCS#11 token, as the CA's may be, is the
// next step: the same two operations, done by the token.)
type masterKey struct {
	aead cipher.AEAD
	raw  []byte
}

// The master key file: a line of base64, 32 bytes.
const masterKeyPrefix = "paraphe-exchange-master-key-1:"

// wrappedVersion is the first byte of every wrapped key: which master key
// scheme wrapped it (rotation will add others).
const wrappedVersion = 1

// ErrMasterKey is returned when the master key file is missing or is not
// one; ErrUnwrap when a wrapped key does not open with it.
var (
	ErrMasterKey = errors.New("exchange: the master key file is missing or damaged")
	ErrUnwrap    = errors.New("exchange: a stored key does not open with the master key")
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
	return &masterKey{aead: aead, raw: raw}, nil
}

// wrap seals key for the row named by purpose and id ("document", "3f…").
func (m *masterKey) wrap(purpose, id string, key []byte) []byte {
	nonce := make([]byte, m.aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte{wrappedVersion}, nonce...)
	return m.aead.Seal(out, nonce, key, []byte(purpose+":"+id))
}

func (m *masterKey) unwrap(purpose, id string, wrapped []byte) ([]byte, error) {
	ns := m.aead.NonceSize()
	if len(wrapped) < 1+ns || wrapped[0] != wrappedVersion {
		return nil, ErrUnwrap
	}
	key, err := m.aead.Open(nil, wrapped[1:1+ns], wrapped[1+ns:], []byte(purpose+":"+id))
	if err != nil {
		return nil, ErrUnwrap
	}
	return key, nil
}

// derive is a key for one use of the server's own (the CSRF tokens'
// HMAC): every replica derives the same from the same master key.
func (m *masterKey) derive(use string) []byte {
	k, err := hkdf.Key(sha256.New, m.raw, nil, "paraphe-exchange "+use, 32)
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
