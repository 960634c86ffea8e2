package ca

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// APIError is a refusal the server sends as protocol.Error with Status.
type APIError struct {
	Status       int
	Code         string
	Message      string
	AttemptsLeft *int
}

func (e *APIError) Error() string { return "ca: " + e.Message }

func apiErr(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg}
}

func stateErr(state string) *APIError {
	switch state {
	case protocol.StateUsed:
		return apiErr(http.StatusForbidden, protocol.CodeUsed, "this reference code has already been used")
	case protocol.StateLocked:
		return apiErr(http.StatusForbidden, protocol.CodeLocked, "this reference code is locked after too many wrong answers")
	case protocol.StateExpired:
		return apiErr(http.StatusForbidden, protocol.CodeExpired, "this reference code has expired")
	}
	return nil
}

var errUnknownRef = apiErr(http.StatusNotFound, protocol.CodeUnknownReference, "unknown reference code")

func parseRef(typed string) (string, error) {
	code, err := protocol.ParseRefCode(typed)
	if err != nil {
		return "", errUnknownRef
	}
	return code, nil
}

// Questions returns the questions of a reference and its state.
func (a *Authority) Questions(ctx context.Context, typed string) (*protocol.Questions, error) {
	code, err := parseRef(typed)
	if err != nil {
		return nil, err
	}
	r, err := loadRef(a.db, code)
	if errors.Is(err, ErrUnknownReference) {
		return nil, errUnknownRef
	}
	if err != nil {
		return nil, err
	}
	q := &protocol.Questions{Reference: code, State: r.state(time.Now()), Expires: r.expires,
		AttemptsLeft: max(0, protocol.MaxAttempts-r.failures)}
	if q.State != protocol.StatePending {
		return q, nil
	}
	for _, i := range r.shown {
		var text string
		if err := a.db.QueryRowContext(ctx, `SELECT question FROM questions WHERE holder_id = ? AND idx = ?`, r.holderID, i).Scan(&text); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		q.Questions = append(q.Questions, text)
	}
	return q, nil
}

// Answer checks the answers to a reference's questions. Two of three right
// releases a one-time authorization code valid 15 minutes; a wrong set
// counts against the reference, which locks at protocol.MaxAttempts.
func (a *Authority) Answer(ctx context.Context, typed string, answers []string) (*protocol.Authorization, error) {
	code, err := parseRef(typed)
	if err != nil {
		return nil, err
	}
	r, err := loadRef(a.db, code)
	if errors.Is(err, ErrUnknownReference) {
		return nil, errUnknownRef
	}
	if err != nil {
		return nil, err
	}
	if e := stateErr(r.state(time.Now())); e != nil {
		return nil, e
	}
	if len(answers) != len(r.shown) {
		return nil, apiErr(http.StatusBadRequest, protocol.CodeBadRequest, fmt.Sprintf("expected %d answers, got %d", len(r.shown), len(answers)))
	}
	// Argon2id costs memory: a bounded number of checks run at once.
	a.hashing <- struct{}{}
	defer func() { <-a.hashing }()
	right := 0
	for i, idx := range r.shown {
		var phc string
		if err := a.db.QueryRowContext(ctx, `SELECT answer_hash FROM questions WHERE holder_id = ? AND idx = ?`, r.holderID, idx).Scan(&phc); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		if checkAnswer(phc, answers[i]) {
			right++
		}
	}
	var auth *protocol.Authorization
	var refusal error
	err = a.db.tx(ctx, func(tx *sql.Tx) error {
		// Read again inside the transaction: another request may have
		// locked or used the reference while the hashes were computed.
		r, err := loadRef(tx, code)
		if err != nil {
			return err
		}
		if e := stateErr(r.state(time.Now())); e != nil {
			refusal = e
			return nil
		}
		if right < rightToPass {
			r.failures++
			if _, err := tx.Exec(`UPDATE refs SET failures = ?, auth_code = NULL WHERE code = ?`, r.failures, code); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			left := max(0, protocol.MaxAttempts-r.failures)
			e := apiErr(http.StatusForbidden, protocol.CodeWrongAnswers, "the answers do not match")
			if left == 0 {
				e = apiErr(http.StatusForbidden, protocol.CodeLocked, "the answers do not match and the reference code is now locked")
			}
			e.AttemptsLeft = &left
			refusal = e
			return nil
		}
		b := make([]byte, 20)
		rand.Read(b)
		auth = &protocol.Authorization{
			Code:    base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b),
			Expires: time.Now().Add(authTTL).UTC().Truncate(time.Second),
			KeyType: a.Config.HolderKeyType,
		}
		_, err = tx.Exec(`UPDATE refs SET auth_code = ?, auth_expires = ? WHERE code = ?`, auth.Code, auth.Expires.Unix(), code)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return auth, nil
}

// EnrollCSR issues the certificate of a reference (EST simpleenroll).
// password is protocol.EnrollPassword(authorization code, CSR key). The
// reference is consumed and the certificate recorded in one transaction.
func (a *Authority) EnrollCSR(ctx context.Context, typed, password string, csr *x509.CertificateRequest) (*x509.Certificate, error) {
	unauthorized := apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "reference code or enrolment password not accepted")
	code, err := protocol.ParseRefCode(typed)
	if err != nil {
		return nil, unauthorized
	}
	if err := a.checkCSR(csr); err != nil {
		return nil, err
	}
	var cert *x509.Certificate
	var refusal error
	err = a.db.tx(ctx, func(tx *sql.Tx) error {
		r, err := loadRef(tx, code)
		if errors.Is(err, ErrUnknownReference) {
			refusal = unauthorized
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Now()
		if r.used && r.authCode != "" && now.Before(r.authExpires) &&
			protocol.CheckEnrollPassword(r.authCode, csr.RawSubjectPublicKeyInfo, password) {
			// A client retrying after a lost reply: the same key gets the
			// certificate already issued, nothing new is issued.
			var der []byte
			if err := tx.QueryRow(`SELECT der FROM certs WHERE ref_code = ?`, code).Scan(&der); err == nil {
				if c, err := x509.ParseCertificate(der); err == nil && bytes.Equal(c.RawSubjectPublicKeyInfo, csr.RawSubjectPublicKeyInfo) {
					cert = c
					return nil
				}
			}
		}
		if e := stateErr(r.state(now)); e != nil {
			refusal = e
			return nil
		}
		if r.authCode == "" {
			refusal = unauthorized
			return nil
		}
		if !now.Before(r.authExpires) {
			refusal = apiErr(http.StatusUnauthorized, protocol.CodeAuthExpired, "the authorization has expired: answer the questions again")
			return nil
		}
		if !protocol.CheckEnrollPassword(r.authCode, csr.RawSubjectPublicKeyInfo, password) {
			refusal = unauthorized
			return nil
		}
		h, err := loadHolder(tx, r.holderID)
		if err != nil {
			return err
		}
		cert, err = a.issue(h, csr.PublicKey, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO certs(serial, holder_id, ref_code, issued, not_after, der) VALUES (?,?,?,?,?,?)`,
			serialHex(cert.SerialNumber), h.ID, code, now.Unix(), cert.NotAfter.Unix(), cert.Raw); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		// The authorization stays until it expires, for retries (above).
		_, err = tx.Exec(`UPDATE refs SET used = 1 WHERE code = ?`, code)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return cert, nil
}

// checkCSR verifies the CSR's self-signature and that its key is the type
// the CA asks for.
func (a *Authority) checkCSR(csr *x509.CertificateRequest) error {
	if err := csr.CheckSignature(); err != nil {
		return apiErr(http.StatusBadRequest, protocol.CodeBadCSR, "the CSR signature does not verify")
	}
	if got := keyTypeOf(csr.PublicKey); got != a.Config.HolderKeyType {
		return apiErr(http.StatusBadRequest, protocol.CodeBadCSR, fmt.Sprintf("the CA issues for %s keys, not %s", a.Config.HolderKeyType, got))
	}
	return nil
}

// Reenroll issues the successor of current (EST simplereenroll): same
// holder, new key. current must be valid, issued here, not revoked and not
// renewed before. When the CA's policy requires it, coupon must be an
// unused coupon code, which the renewal consumes.
func (a *Authority) Reenroll(ctx context.Context, current *x509.Certificate, csr *x509.CertificateRequest, coupon string) (*x509.Certificate, error) {
	if err := a.checkCSR(csr); err != nil {
		return nil, err
	}
	now := time.Now()
	pool := x509.NewCertPool()
	pool.AddCert(a.Root)
	inter := x509.NewCertPool()
	inter.AddCert(a.Issuer)
	if _, err := current.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "the client certificate is not a valid certificate of this CA")
	}
	serial := serialHex(current.SerialNumber)
	var cert *x509.Certificate
	var refusal error
	err := a.db.tx(ctx, func(tx *sql.Tx) error {
		var holderID int64
		var revoked sql.NullInt64
		err := tx.QueryRow(`SELECT holder_id, revoked FROM certs WHERE serial = ?`, serial).Scan(&holderID, &revoked)
		if err == sql.ErrNoRows {
			refusal = apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "the client certificate is unknown to this CA")
			return nil
		}
		if err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if revoked.Valid {
			refusal = apiErr(http.StatusForbidden, protocol.CodeRevoked, "the certificate is revoked and cannot be renewed")
			return nil
		}
		var n int
		tx.QueryRow(`SELECT count(*) FROM certs WHERE predecessor = ?`, serial).Scan(&n)
		if n > 0 {
			refusal = apiErr(http.StatusConflict, protocol.CodeAlreadyRenewed, "the certificate has already been renewed")
			return nil
		}
		couponHash := ""
		if a.Config.RenewalNeedsCoupon {
			if coupon == "" {
				refusal = apiErr(http.StatusForbidden, protocol.CodeCouponRequired, "this CA renews certificates with a coupon code")
				return nil
			}
			couponHash = hashCoupon(coupon)
			var used sql.NullString
			err := tx.QueryRow(`SELECT used_by FROM coupons WHERE hash = ?`, couponHash).Scan(&used)
			if err == sql.ErrNoRows || used.Valid {
				refusal = apiErr(http.StatusForbidden, protocol.CodeCouponInvalid, "the coupon code is unknown or already used")
				return nil
			}
			if err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		h, err := loadHolder(tx, holderID)
		if err != nil {
			return err
		}
		cert, err = a.issue(h, csr.PublicKey, now)
		if err != nil {
			return err
		}
		newSerial := serialHex(cert.SerialNumber)
		if _, err = tx.Exec(`INSERT INTO certs(serial, holder_id, predecessor, issued, not_after, der) VALUES (?,?,?,?,?,?)`,
			newSerial, holderID, serial, now.Unix(), cert.NotAfter.Unix(), cert.Raw); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if couponHash != "" {
			_, err = tx.Exec(`UPDATE coupons SET used_by = ?, used_at = ? WHERE hash = ?`, newSerial, now.Unix(), couponHash)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return cert, nil
}
