package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// Signatures: credentials/authorize checks the PIN and one-time password
// and returns the signature activation data (SAD), bound to the
// credential and to the hashes it lists (SCAL 2), good once and for five
// minutes; signatures/signHash spends it, signing those hashes (or some
// of them) with the key on the CA's token. A credential is a remote
// holder's certificate, named by its serial number; the current one is
// the last issued.

// remoteCredential is a remote holder's current certificate.
type remoteCredential struct {
	serial  string
	cert    *x509.Certificate
	revoked bool
}

// credential returns userID's current credential, or refuses serial when
// it is not that one.
func (a *Authority) credential(q querier, userID, serial string) (*remoteCredential, error) {
	var der []byte
	var revoked sql.NullInt64
	var s string
	err := q.QueryRow(`SELECT c.serial, c.der, c.revoked FROM certs c JOIN remote_accounts r ON r.holder_id = c.holder_id
		WHERE r.user_id = ? AND NOT EXISTS (SELECT 1 FROM certs n WHERE n.predecessor = c.serial) ORDER BY c.issued DESC`, userID).Scan(&s, &der, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, badRequest("no credential for this user")
	}
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	if serial != "" && serial != s {
		return nil, badRequest("Invalid parameter credentialID")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: database: certificate %s: %w", s, err)
	}
	return &remoteCredential{serial: s, cert: cert, revoked: revoked.Valid && revoked.Int64 <= a.clockNow().Unix()}, nil
}

// RemoteCredentials lists userID's credentials (the current one).
func (a *Authority) RemoteCredentials(ctx context.Context, userID string, req protocol.CSCListRequest) (*protocol.CSCList, error) {
	c, err := a.credential(a.db, userID, "")
	if err != nil {
		return nil, err
	}
	out := &protocol.CSCList{CredentialIDs: []string{c.serial}, OnlyValid: req.OnlyValid}
	if req.OnlyValid && c.status(a.clockNow()) != "valid" {
		out.CredentialIDs = []string{}
		return out, nil
	}
	if req.CredentialInfo {
		info, err := a.credentialInfo(ctx, userID, c, req.Certificates, req.CertInfo)
		if err != nil {
			return nil, err
		}
		info.CredentialID = c.serial
		out.CredentialInfos = []protocol.CSCCredentialInfo{*info}
	}
	return out, nil
}

// RemoteCredentialInfo describes one of userID's credentials.
func (a *Authority) RemoteCredentialInfo(ctx context.Context, userID string, req protocol.CSCInfoRequest) (*protocol.CSCCredentialInfo, error) {
	if req.CredentialID == "" {
		return nil, badRequest("Missing (or invalid type) string parameter credentialID")
	}
	c, err := a.credential(a.db, userID, req.CredentialID)
	if err != nil {
		return nil, err
	}
	return a.credentialInfo(ctx, userID, c, req.Certificates, req.CertInfo)
}

func (c *remoteCredential) status(now time.Time) string {
	switch {
	case c.revoked:
		return "revoked"
	case now.After(c.cert.NotAfter):
		return "expired"
	}
	return "valid"
}

// credentialInfo is credentials/info's answer for c: its certificates
// (none, single or chain), its key, its authorisation.
func (a *Authority) credentialInfo(ctx context.Context, userID string, c *remoteCredential, certs string, certInfo bool) (*protocol.CSCCredentialInfo, error) {
	acc, err := a.RemoteAccountOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	info := &protocol.CSCCredentialInfo{Description: a.Config.Name + ": " + c.cert.Subject.CommonName, SCAL: "2",
		Multisign: a.Config.Remote.multisign(), Lang: "en", AuthMode: "explicit",
		PIN: &protocol.CSCV1Presence{Presence: "true", Format: "N"}, OTP: &protocol.CSCV1Presence{Presence: "true", Type: "offline", Format: "N"}}
	info.Key = keyInfo(c.cert.PublicKey)
	info.Key.Status = "enabled"
	if acc.State != remoteStateActive || acc.PINTriesLeft == 0 || acc.OTPTriesLeft == 0 || c.status(a.clockNow()) != "valid" {
		info.Key.Status = "disabled"
	}
	chain := []*x509.Certificate{c.cert}
	switch certs {
	case "none":
		chain = nil
	case "chain":
		chain = append(chain, a.Issuer, a.Root)
	case "", "single":
	default:
		return nil, badRequest("Invalid parameter certificates")
	}
	info.Cert = &protocol.CSCCertInfo{Status: c.status(a.clockNow())}
	for _, ct := range chain {
		info.Cert.Certificates = append(info.Cert.Certificates, base64.StdEncoding.EncodeToString(ct.Raw))
	}
	if certInfo {
		info.Cert.IssuerDN, info.Cert.SubjectDN = c.cert.Issuer.String(), c.cert.Subject.String()
		info.Cert.SerialNumber = c.serial
		info.Cert.ValidFrom, info.Cert.ValidTo = c.cert.NotBefore.UTC().Format("20060102150405Z"), c.cert.NotAfter.UTC().Format("20060102150405Z")
	}
	// The authorisation is said whatever authInfo: SCAL 2 clients need it.
	info.Auth = &protocol.CSCAuthInfo{Mode: "explicit", Expression: "PIN AND OTP", Objects: []protocol.CSCAuthObject{
		{Type: "Password", ID: protocol.AuthPIN, Format: "N", Label: "PIN", Description: "the signing PIN, 8 digits"},
		{Type: "OTP", ID: protocol.AuthOTP, Format: "N", Label: "OTP", Description: "a one-time password of the holder's TOTP generator", Generator: "totp"},
	}}
	if a.SMS != nil {
		info.Auth.Objects[1].Description += ", or one sent by SMS (credentials/sendOTP)"
	}
	return info, nil
}

// keyInfo says what a credential's key is and what it signs with.
func keyInfo(pub crypto.PublicKey) protocol.CSCKeyInfo {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return protocol.CSCKeyInfo{Algo: []string{protocol.OIDECPublicKey, protocol.OIDECDSAWithSHA256}, Len: k.Curve.Params().BitSize, Curve: protocol.OIDP256}
	case *rsa.PublicKey:
		return protocol.CSCKeyInfo{Algo: []string{protocol.OIDRSAEncryption, protocol.OIDSHA256WithRSA}, Len: k.N.BitLen()}
	}
	return protocol.CSCKeyInfo{}
}

// decodeHashes reads base64 SHA-256 hashes (standard or URL alphabet),
// at least one and at most max.
func decodeHashes(hashes []string, hashOID string, max int) ([][]byte, error) {
	if hashOID != "" && hashOID != protocol.OIDSHA256 {
		return nil, badRequest("Invalid parameter hashAlgorithmOID: the hashes must be SHA-256 (" + protocol.OIDSHA256 + ")")
	}
	if len(hashes) == 0 {
		return nil, badRequest("Missing (or invalid type) array parameter hashes")
	}
	if len(hashes) > max {
		return nil, badRequest(fmt.Sprintf("Numbers of signatures is too high (at most %d)", max))
	}
	out := make([][]byte, len(hashes))
	for i, h := range hashes {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(h, "="))
		}
		if err != nil || len(b) != 32 {
			return nil, badRequest("Invalid Base64 hash string parameter: hashes[" + strconv.Itoa(i) + "] is not a SHA-256 hash in base64")
		}
		out[i] = b
	}
	return out, nil
}

// canonicalHashes is the hashes as a SAD records them: standard base64,
// sorted.
func canonicalHashes(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	slices.Sort(out)
	return out
}

// AuthorizeRemote checks the PIN and one-time password of an
// authorisation of req's hashes and returns its SAD.
func (a *Authority) AuthorizeRemote(ctx context.Context, userID string, req protocol.CSCAuthorize) (*protocol.CSCSAD, error) {
	if req.CredentialID == "" {
		return nil, badRequest("Missing (or invalid type) string parameter credentialID")
	}
	hashes, err := decodeHashes(req.Hashes, req.HashAlgorithmOID, a.Config.Remote.multisign())
	if err != nil {
		return nil, err
	}
	if req.NumSignatures != len(hashes) {
		return nil, badRequest("Invalid parameter numSignatures: it must be the number of hashes listed")
	}
	var pin, code string
	for _, d := range req.AuthData {
		switch d.ID {
		case protocol.AuthPIN:
			pin = d.Value
		case protocol.AuthOTP:
			code = d.Value
		}
	}
	if pin == "" || code == "" {
		return nil, badRequest("Missing authData: the PIN and the OTP are both required")
	}
	c, err := a.credential(a.db, userID, req.CredentialID)
	if err != nil {
		return nil, err
	}
	if c.status(a.clockNow()) != "valid" {
		return nil, badRequest("The credential's certificate is " + c.status(a.clockNow()))
	}
	sad := newToken()
	listed := canonicalHashes(hashes)
	details := map[string]string{"credential": c.serial, "hashes": strconv.Itoa(len(hashes))}
	err = a.factors(ctx, userID, pin, code, EventRemoteAuthorized, details, func(tx *dbTx) error {
		if _, err := tx.Exec(`INSERT INTO remote_sads(hash, user_id, credential, hashes, expires) VALUES (?,?,?,?,?)`,
			tokenHash(sad), userID, c.serial, strings.Join(listed, ","), a.clockNow().Add(sadTTL).Unix()); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &protocol.CSCSAD{SAD: sad, ExpiresIn: int(sadTTL / time.Second)}, nil
}

// SignRemote spends a SAD: the hashes, each among those it lists, signed
// by the credential's key on the token.
func (a *Authority) SignRemote(ctx context.Context, userID string, req protocol.CSCSignHash) ([][]byte, error) {
	if req.SAD == "" {
		return nil, badRequest("Missing (or invalid type) string parameter SAD")
	}
	if req.OperationMode != "" && req.OperationMode != "S" {
		return nil, badRequest("Invalid parameter operationMode: only S (synchronous) is offered")
	}
	hashes, err := decodeHashes(req.Hashes, req.HashAlgorithmOID, a.Config.Remote.multisign())
	if err != nil {
		return nil, err
	}
	tk, err := a.remoteKeys()
	if err != nil {
		return nil, err
	}
	var sigs [][]byte
	err = a.db.tx(ctx, func(tx *dbTx) error {
		sigs = nil
		c, err := a.spendSAD(tx, userID, req, hashes)
		if err != nil {
			return err
		}
		if err := checkSignAlgo(c.cert.PublicKey, req.SignAlgo, req.HashAlgorithmOID); err != nil {
			return err
		}
		key, err := tk.t.Key(c.cert.PublicKey)
		if err != nil {
			return fmt.Errorf("ca: the key of credential %s on token %q: %w", c.serial, tk.t.Label(), err)
		}
		for _, h := range hashes {
			sig, err := key.Sign(rand.Reader, h, crypto.SHA256)
			if err != nil {
				return fmt.Errorf("ca: signing with credential %s: %w", c.serial, err)
			}
			sigs = append(sigs, sig)
		}
		return tx.audit(EventRemoteSigned, certSubject(c.serial), map[string]string{"user_id": userID,
			"count": strconv.Itoa(len(hashes)), "hashes": strings.Join(canonicalHashes(hashes), ",")})
	})
	if err != nil {
		return nil, err
	}
	return sigs, nil
}

// spendSAD checks a SAD for req, in tx, and spends it.
func (a *Authority) spendSAD(tx *dbTx, userID string, req protocol.CSCSignHash, hashes [][]byte) (*remoteCredential, error) {
	var owner, credential, listed string
	var expires int64
	var used sql.NullInt64
	err := tx.QueryRow(`SELECT user_id, credential, hashes, expires, used FROM remote_sads WHERE hash = ? FOR UPDATE`, tokenHash(req.SAD)).
		Scan(&owner, &credential, &listed, &expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && owner != userID):
		return nil, badRequest("Invalid parameter SAD")
	case err != nil:
		return nil, fmt.Errorf("ca: database: %w", err)
	case used.Valid:
		return nil, badRequest("Invalid parameter SAD: it has been used already (a SAD signs once: authorize again)")
	case expires <= a.clockNow().Unix():
		return nil, badRequest("Invalid parameter SAD: it has expired (authorize again)")
	case req.CredentialID != credential:
		return nil, badRequest("Invalid parameter credentialID: the SAD is for another credential")
	}
	// Each hash among those listed, as many times at most.
	left := map[string]int{}
	for _, h := range strings.Split(listed, ",") {
		left[h]++
	}
	for i, h := range canonicalHashes(hashes) {
		if left[h] == 0 {
			return nil, badRequest("Invalid parameter hashes: hashes[" + strconv.Itoa(i) + "] is not one the SAD authorised")
		}
		left[h]--
	}
	if err := spendOnce(tx.Exec(`UPDATE remote_sads SET used = ? WHERE hash = ? AND used IS NULL`, a.clockNow().Unix(), tokenHash(req.SAD))); err != nil {
		return nil, err
	}
	c, err := a.credential(tx, userID, credential)
	if err != nil {
		return nil, err
	}
	if c.status(a.clockNow()) != "valid" {
		return nil, badRequest("The credential's certificate is " + c.status(a.clockNow()))
	}
	return c, nil
}

// checkSignAlgo checks that signAlgo (and hashOID) is a signature the
// key makes: ECDSA or PKCS#1 v1.5 with SHA-256.
func checkSignAlgo(pub crypto.PublicKey, signAlgo, hashOID string) error {
	ok := false
	switch pub.(type) {
	case *ecdsa.PublicKey:
		ok = signAlgo == protocol.OIDECDSAWithSHA256 || (signAlgo == protocol.OIDECPublicKey && hashOID == protocol.OIDSHA256)
	case *rsa.PublicKey:
		ok = signAlgo == protocol.OIDSHA256WithRSA || (signAlgo == protocol.OIDRSAEncryption && hashOID == protocol.OIDSHA256)
	}
	if !ok {
		return badRequest("Invalid parameter signAlgo: the credential signs with " + strings.Join(keyInfo(pub).Algo[1:], ", "))
	}
	return nil
}

// RenewRemote issues the successor of userID's credential for a new key
// made on the token, authorised by the PIN and a one-time password (and a
// coupon where the CA's policy wants one). The old certificate is
// superseded as any renewal's; with no overlap its key is destroyed.
func (a *Authority) RenewRemote(ctx context.Context, userID string, req protocol.RemoteRenew) (*x509.Certificate, error) {
	tk, err := a.remoteKeys()
	if err != nil {
		return nil, err
	}
	c, err := a.credential(a.db, userID, req.CredentialID)
	if err != nil {
		return nil, err
	}
	details := map[string]string{"credential": c.serial, "renewal": "true"}
	if err := a.factors(ctx, userID, req.PIN, req.OTP, EventRemoteAuthorized, details, func(*dbTx) error { return nil }); err != nil {
		return nil, err
	}
	key, err := tk.generate(a.Config.HolderKeyType)
	if err != nil {
		return nil, err
	}
	now := a.clockNow()
	var cert *x509.Certificate
	var refusal error
	err = a.db.tx(ctx, func(tx *dbTx) error {
		cert, refusal = nil, nil
		cur, _, refused, err := renewable(tx, c.serial, nil, now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		couponHash, refused, err := a.redeemable(tx, req.Coupon)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		// An officer's approval, where the CA's policy wants one: a
		// request waiting for it is recorded (and the new key destroyed).
		approved, refused, err := a.approval(tx, cur, "", now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		if cert, err = a.issueSuccessor(tx, cur, &x509.CertificateRequest{PublicKey: key.Public()},
			successorOf{couponHash: couponHash, request: approved}, now); err != nil {
			return err
		}
		// On the token before the record is committed: a certificate in
		// the database always has its key's.
		return tk.keep("", key, cert)
	})
	if err != nil || refusal != nil {
		tk.discard(key)
		if err == nil {
			err = refusal
		}
		return nil, err
	}
	a.precomputeOCSP(cert)
	a.ocspRevoked([]string{c.serial})
	if a.Config.RenewalOverlapDays == 0 {
		// Revoked as superseded already: its key signs nothing more.
		tk.t.Delete(c.cert.PublicKey)
	}
	return cert, nil
}

// RemoteRenewalDetails is RenewalDetails for userID's credential: what
// its successor will carry, for the holder to confirm first.
func (a *Authority) RemoteRenewalDetails(ctx context.Context, userID, credentialID string) (*protocol.RenewalDetails, error) {
	c, err := a.credential(a.db, userID, credentialID)
	if err != nil {
		return nil, err
	}
	return a.RenewalDetails(ctx, c.cert)
}

// Errors of the HTTP layer, for a request's body.
var errBody = badRequest("The request body is not the JSON object this method takes")

// errNoRemote: the CA offers no remote signing (its keys are in files).
var errNoRemote = cscErr(http.StatusNotFound, protocol.CSCInvalidRequest, "this CA offers no remote signing")
