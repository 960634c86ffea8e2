//go:build cgo

package pkcs

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/miekg/pkcs11"
)

// SecretKey is an AES-256 key made on a token, sensitive and never
// extractable: it seals and opens with AES-GCM and computes AES-CMACs on
// the token, for a server whose master key must not leave it (the
// exchange's). Safe for concurrent use: each operation borrows a pooled
// session.
type SecretKey struct {
	ID string // CKA_ID, in hex
	s  *TokenStore
	h  pkcs11.ObjectHandle
}

// gcmNonceSize and gcmTagBits are AES-GCM's usual sizes.
const (
	gcmNonceSize = 12
	gcmTagBits   = 128
)

// NewSecretKey generates an AES-256 secret key on the token, labelled
// label, for encryption and CMAC only (no wrapping, no derivation), on a
// store logged in with Login.
func (s *TokenStore) NewSecretKey(label string) (*SecretKey, error) {
	sh, err := s.session()
	if err != nil {
		return nil, err
	}
	defer s.release(sh)
	id := make([]byte, 16)
	rand.Read(id)
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	h, err := s.ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl)
	if err != nil {
		return nil, tokenErr("generate secret key", err)
	}
	return &SecretKey{ID: hex.EncodeToString(id), s: s, h: h}, nil
}

// SecretKey finds the secret key whose CKA_ID is id (hex).
func (s *TokenStore) SecretKey(id string) (*SecretKey, error) {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("%w: secret key %q", ErrNotFound, id)
	}
	sh, err := s.session()
	if err != nil {
		return nil, err
	}
	defer s.release(sh)
	hs, err := s.find(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_ID, raw),
	})
	if err != nil {
		return nil, err
	}
	if len(hs) != 1 {
		return nil, fmt.Errorf("%w: secret key %s", ErrNotFound, id)
	}
	return &SecretKey{ID: id, s: s, h: hs[0]}, nil
}

// Seal encrypts plain with AES-GCM on the token, authenticating aad too,
// and returns the nonce the token used followed by the ciphertext and
// its tag.
func (k *SecretKey) Seal(plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, gcmNonceSize)
	rand.Read(nonce)
	params := pkcs11.NewGCMParams(nonce, aad, gcmTagBits)
	defer params.Free()
	sh, err := k.s.session()
	if err != nil {
		return nil, err
	}
	defer k.s.release(sh)
	if err := k.s.ctx.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, k.h); err != nil {
		return nil, keyUseErr("encrypt", err)
	}
	ct, err := k.s.ctx.Encrypt(sh, plain)
	if err != nil {
		return nil, tokenErr("encrypt", err)
	}
	// Some modules choose the nonce themselves: the one used is read back.
	return append(append([]byte{}, params.IV()...), ct...), nil
}

// Open decrypts what Seal returned, with the same aad; an altered or
// misplaced value is refused (ErrSecretOpen).
func (k *SecretKey) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < gcmNonceSize+gcmTagBits/8 {
		return nil, ErrSecretOpen
	}
	params := pkcs11.NewGCMParams(sealed[:gcmNonceSize], aad, gcmTagBits)
	defer params.Free()
	sh, err := k.s.session()
	if err != nil {
		return nil, err
	}
	defer k.s.release(sh)
	if err := k.s.ctx.DecryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, k.h); err != nil {
		return nil, keyUseErr("decrypt", err)
	}
	plain, err := k.s.ctx.Decrypt(sh, sealed[gcmNonceSize:])
	// A tag that does not match: SoftHSM2 says CKR_GENERAL_ERROR.
	if isCode(err, pkcs11.CKR_ENCRYPTED_DATA_INVALID, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE, pkcs11.CKR_GENERAL_ERROR) {
		return nil, ErrSecretOpen
	}
	if err != nil {
		return nil, tokenErr("decrypt", err)
	}
	return plain, nil
}

// CMAC is the AES-CMAC of msg under the key (16 bytes).
func (k *SecretKey) CMAC(msg []byte) ([]byte, error) {
	sh, err := k.s.session()
	if err != nil {
		return nil, err
	}
	defer k.s.release(sh)
	if err := k.s.ctx.SignInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_CMAC, nil)}, k.h); err != nil {
		return nil, keyUseErr("cmac", err)
	}
	mac, err := k.s.ctx.Sign(sh, msg)
	if err != nil {
		return nil, tokenErr("cmac", err)
	}
	return mac, nil
}

// Destroy removes the key from the token: what it sealed opens no more.
func (k *SecretKey) Destroy() error {
	sh, err := k.s.session()
	if err != nil {
		return err
	}
	defer k.s.release(sh)
	if err := k.s.ctx.DestroyObject(sh, k.h); err != nil {
		return tokenErr("destroy secret key", err)
	}
	return nil
}
