package remote

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// A remote key signs hashes: each SignDigests is one authorisation
// (credentials/authorize, with the PIN the key was opened with and a
// one-time password from Store.OTP) listing every digest, then one
// signatures/signHash for them all. Each signature is checked against
// the certificate before it is returned.

// callTimeout bounds a call that has no deadline of its own (Sign's,
// the PIN changes').
const callTimeout = 2 * time.Minute

// Open returns key id, which will sign with pin (checked by the service
// at the first authorisation: there is nothing to check it against here).
func (s *Store) Open(id string, pin []byte) (*pkcs.Key, error) {
	_, c, e, err := s.find(id)
	if err != nil {
		return nil, err
	}
	return pkcs.WrapKey(e, &signer{s: s, credential: c.ID, cert: e.Chain[0], pin: bytes.Clone(pin)}), nil
}

// signer is a remote key: a crypto.Signer, and a pdf.BatchSigner.
type signer struct {
	s          *Store
	credential string
	cert       *x509.Certificate
	pin        []byte
}

func (k *signer) Public() crypto.PublicKey { return k.cert.PublicKey }

// Sign signs one digest under an authorisation of its own.
func (k *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	sigs, err := k.SignDigests(ctx, [][]byte{digest}, opts)
	if err != nil {
		return nil, err
	}
	return sigs[0], nil
}

// SignDigests signs digests (SHA-256) under one authorisation.
func (k *signer) SignDigests(ctx context.Context, digests [][]byte, opts crypto.SignerOpts) ([][]byte, error) {
	if opts.HashFunc() != crypto.SHA256 {
		return nil, fmt.Errorf("remote: the service signs SHA-256 hashes, not %v", opts.HashFunc())
	}
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, fmt.Errorf("remote: the service signs RSA with PKCS #1 v1.5, not PSS")
	}
	a, err := k.s.load()
	if err != nil {
		return nil, err
	}
	otp, err := k.s.otp(ctx)
	if err != nil {
		return nil, err
	}
	defer clear(otp)
	hashes := make([]string, len(digests))
	for i, d := range digests {
		hashes[i] = base64.StdEncoding.EncodeToString(d)
	}
	var sad protocol.CSCSAD
	err = k.s.do(ctx, http.MethodPost, a.CSC+"credentials/authorize", protocol.CSCAuthorize{
		CredentialID: k.credential, NumSignatures: len(digests), Hashes: hashes, HashAlgorithmOID: protocol.OIDSHA256,
		AuthData: []protocol.CSCAuthData{{ID: protocol.AuthPIN, Value: string(k.pin)}, {ID: protocol.AuthOTP, Value: string(otp)}},
	}, &sad)
	if err != nil {
		return nil, err
	}
	var out protocol.CSCSignatures
	err = k.s.do(ctx, http.MethodPost, a.CSC+"signatures/signHash", protocol.CSCSignHash{
		CredentialID: k.credential, SAD: sad.SAD, Hashes: hashes, HashAlgorithmOID: protocol.OIDSHA256, SignAlgo: signAlgo(k.cert.PublicKey),
	}, &out)
	if err != nil {
		return nil, err
	}
	return k.check(digests, out.Signatures)
}

// check decodes the service's signatures and verifies each.
func (k *signer) check(digests [][]byte, sigs []string) ([][]byte, error) {
	if len(sigs) != len(digests) {
		return nil, fmt.Errorf("%w: %d signatures for %d hashes", ErrMalformedReply, len(sigs), len(digests))
	}
	out := make([][]byte, len(sigs))
	for i, b := range sigs {
		sig, err := base64.StdEncoding.DecodeString(b)
		if err != nil {
			return nil, fmt.Errorf("%w: a signature is not base64", ErrMalformedReply)
		}
		ok := false
		switch pub := k.cert.PublicKey.(type) {
		case *ecdsa.PublicKey:
			ok = ecdsa.VerifyASN1(pub, digests[i], sig)
		case *rsa.PublicKey:
			ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digests[i], sig) == nil
		}
		if !ok {
			return nil, ErrBadSignature
		}
		out[i] = sig
	}
	return out, nil
}

func signAlgo(pub crypto.PublicKey) string {
	if _, ok := pub.(*rsa.PublicKey); ok {
		return protocol.OIDSHA256WithRSA
	}
	return protocol.OIDECDSAWithSHA256
}

// otp asks Store.OTP for a one-time password.
func (s *Store) otp(ctx context.Context) ([]byte, error) {
	if s.OTP == nil {
		return nil, ErrNoOTP
	}
	otp, err := s.OTP(ctx)
	if err != nil {
		return nil, err
	}
	if len(otp) == 0 {
		return nil, ErrNoOTP
	}
	return otp, nil
}

// ChangePIN sets a new PIN, with the current one and a one-time password
// (Store.OTP); id names the credential (every credential of the account
// shares the PIN).
func (s *Store) ChangePIN(id string, oldPIN, newPIN []byte) error {
	a, _, _, err := s.find(id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	otp, err := s.otp(ctx)
	if err != nil {
		return err
	}
	defer clear(otp)
	return s.do(ctx, http.MethodPost, a.Remote+"pin", protocol.RemotePINChange{PIN: string(oldPIN), OTP: string(otp), NewPIN: string(newPIN)}, nil)
}

// UnlockPIN unblocks the PIN with the PUK and sets a new one.
func (s *Store) UnlockPIN(puk, newPIN []byte) error {
	a, err := s.load()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return s.do(ctx, http.MethodPost, a.Remote+"unlock", protocol.RemoteActivate{PUK: string(puk), NewPIN: string(newPIN)}, nil)
}

// RenewalDetails says what the successor of the certificate id will
// carry (the CA's record of its holder), for the holder to confirm
// before Renew.
func (s *Store) RenewalDetails(ctx context.Context, id string) (*protocol.RenewalDetails, error) {
	a, c, _, err := s.find(id)
	if err != nil {
		return nil, err
	}
	var d protocol.RenewalDetails
	if err := s.do(ctx, http.MethodPost, a.Remote+"renew/details", protocol.RemoteCredential{CredentialID: c.ID}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Renew has the CA issue credential id's successor for a new key in its
// HSM, authorised with pin and a one-time password (Store.OTP), and
// coupon when the CA's policy wants one; the store then lists the
// successor, and no longer id.
func (s *Store) Renew(ctx context.Context, id string, pin []byte, coupon string) (pkcs.Entry, error) {
	a, c, _, err := s.find(id)
	if err != nil {
		return pkcs.Entry{}, err
	}
	otp, err := s.otp(ctx)
	if err != nil {
		return pkcs.Entry{}, err
	}
	defer clear(otp)
	var next protocol.RemoteRenewed
	if err := s.do(ctx, http.MethodPost, a.Remote+"renew", protocol.RemoteRenew{CredentialID: c.ID, PIN: string(pin), OTP: string(otp), Coupon: coupon}, &next); err != nil {
		return pkcs.Entry{}, err
	}
	if err := s.refresh(ctx, a); err != nil {
		return pkcs.Entry{}, err
	}
	for _, cr := range a.Credentials {
		if cr.ID == next.CredentialID {
			return entryOf(cr)
		}
	}
	return pkcs.Entry{}, fmt.Errorf("%w: the successor %s is not listed", ErrMalformedReply, next.CredentialID)
}
