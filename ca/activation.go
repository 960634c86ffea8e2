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
	"strconv"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// APIError is a refusal the server sends as protocol.Error with Status.
type APIError struct {
	Status       int
	Code         string
	Message      string
	AttemptsLeft *int
	RetryAfter   time.Duration // sent as Retry-After when set
	Reason       string        // an officer's words (protocol.CodeRenewalRefused)
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

// Limits of answer checks on one reference, right answers included:
// refChecksPerWindow in each refWindow. Wrong ones also count towards
// protocol.MaxAttempts, which locks the reference.
const (
	refWindow          = 15 * time.Minute
	refChecksPerWindow = 5
)

// Answer checks the answers to a reference's questions. Two of three right
// releases a one-time authorization code valid 15 minutes (the same code
// again while it is valid); a wrong set counts against the reference,
// which locks at protocol.MaxAttempts.
//
// Argon2id is what an attacker would make the server pay for, so every
// check is paid before it is made: the attempt is counted in the database
// first (and given back when the answers are right, or when the request
// ends before they were checked), then the request waits in line for a
// hashing slot as long as its client does, then looks at the reference
// again. A locked, used or replaced reference costs no hashing at all. A
// request that finds the line full (Authority.AnswerQueue) is refused
// with 503 and Retry-After (protocol.CodeBusy), its attempt given back.
func (a *Authority) Answer(ctx context.Context, typed string, answers []string) (*protocol.Authorization, error) {
	code, err := parseRef(typed)
	if err != nil {
		return nil, err
	}
	depth := a.answerDepth()
	if busy := a.answers.wouldRefuse(depth); busy != nil {
		return nil, busy // before any work
	}
	hashes, err := a.reserveAttempt(ctx, code, len(answers))
	if err != nil {
		return nil, err
	}
	// Argon2id costs memory: a bounded number of checks run at once.
	release, err := a.answers.acquire(ctx, depth)
	if err != nil {
		if rerr := a.refundAttempt(code); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	defer release()
	// Used or replaced while this request waited: nothing to check.
	r, err := loadRef(a.db, code)
	if err != nil {
		return nil, err
	}
	if r.used || r.superseded || !time.Now().Before(r.expires) {
		return nil, stateErr(r.state(time.Now()))
	}
	right := 0
	for i, phc := range hashes {
		a.answerChecks.Add(1)
		if checkAnswer(phc, answers[i]) {
			right++
		}
	}
	// The outcome is recorded even if the client has gone: the check was made.
	return a.recordAnswer(context.WithoutCancel(ctx), code, right >= rightToPass)
}

// reserveAttempt counts an attempt on the reference, if it may be made
// now, and returns the hashes of the answers to check.
func (a *Authority) reserveAttempt(ctx context.Context, code string, nAnswers int) ([]string, error) {
	var hashes []string
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		hashes, refusal = nil, nil
		r, err := loadRef(tx, code)
		if errors.Is(err, ErrUnknownReference) {
			refusal = errUnknownRef
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Now()
		if e := stateErr(r.state(now)); e != nil {
			refusal = e
			return nil
		}
		if nAnswers != len(r.shown) {
			refusal = apiErr(http.StatusBadRequest, protocol.CodeBadRequest, fmt.Sprintf("expected %d answers, got %d", len(r.shown), nAnswers))
			return nil
		}
		start, checks := r.windowStart, r.windowChecks+1
		if end := time.Unix(start, 0).Add(refWindow); !now.Before(end) {
			start, checks = now.Unix(), 1
		} else if checks > refChecksPerWindow {
			e := apiErr(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many answers to this reference code in a short time: try again later")
			e.RetryAfter = end.Sub(now)
			refusal = e
			return nil
		}
		// The conditions again in the statement itself, so that the rule
		// holds on a database that does not serialise transactions.
		res, err := tx.Exec(`UPDATE refs SET failures = failures + 1, window_start = ?, window_checks = ?
			WHERE code = ? AND failures < ? AND used = FALSE AND superseded = FALSE AND expires > ?`,
			start, checks, code, protocol.MaxAttempts, now.Unix())
		if err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			refusal = stateErr(protocol.StateLocked)
			return nil
		}
		for _, idx := range r.shown {
			var phc string
			if err := tx.QueryRow(`SELECT answer_hash FROM questions WHERE holder_id = ? AND idx = ?`, r.holderID, idx).Scan(&phc); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			hashes = append(hashes, phc)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return hashes, nil
}

// refundAttempt gives back an attempt that was never checked.
func (a *Authority) refundAttempt(code string) error {
	if _, err := a.db.Exec(`UPDATE refs SET failures = failures - 1, window_checks = window_checks - 1
		WHERE code = ? AND failures > 0 AND window_checks > 0`, code); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return nil
}

// recordAnswer records the outcome of a check whose attempt was reserved.
func (a *Authority) recordAnswer(ctx context.Context, code string, right bool) (*protocol.Authorization, error) {
	var auth *protocol.Authorization
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		auth, refusal = nil, nil
		r, err := loadRef(tx, code)
		if err != nil {
			return err
		}
		now := time.Now()
		if r.used || r.superseded || !now.Before(r.expires) {
			refusal = stateErr(r.state(now))
			return nil
		}
		details := map[string]string{"reference": protocol.RedactRef(code), "outcome": "accepted"}
		if !right {
			// The attempt stays counted; a live authorization ends.
			if _, err := tx.Exec(`UPDATE refs SET auth_code = NULL WHERE code = ?`, code); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
			left := max(0, protocol.MaxAttempts-r.failures)
			e := apiErr(http.StatusForbidden, protocol.CodeWrongAnswers, "the answers do not match")
			details["outcome"] = "rejected"
			if left == 0 {
				e = apiErr(http.StatusForbidden, protocol.CodeLocked, "the answers do not match and the reference code is now locked")
				details["outcome"] = "locked"
			}
			e.AttemptsLeft = &left
			refusal = e
			details["attempts_left"] = strconv.Itoa(left)
			return tx.audit(EventAnswers, holderSubject(r.holderID), details)
		}
		if _, err := tx.Exec(`UPDATE refs SET failures = failures - 1 WHERE code = ? AND failures > 0`, code); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if err := tx.audit(EventAnswers, holderSubject(r.holderID), details); err != nil {
			return err
		}
		auth = &protocol.Authorization{Code: r.authCode, Expires: r.authExpires.UTC(), KeyType: a.Config.HolderKeyType}
		if r.authCode != "" && now.Before(r.authExpires) {
			return nil // one live code per reference: the same again
		}
		b := make([]byte, 20)
		rand.Read(b)
		auth.Code = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
		auth.Expires = now.Add(authTTL).UTC().Truncate(time.Second)
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
	err = a.db.tx(ctx, func(tx *dbTx) error {
		cert, refusal = nil, nil
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
		serial := serialHex(cert.SerialNumber)
		if _, err := tx.Exec(`INSERT INTO certs(serial, holder_id, ref_code, issued, not_after, der) VALUES (?,?,?,?,?,?)`,
			serial, h.ID, code, now.Unix(), cert.NotAfter.Unix(), cert.Raw); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		// The authorization stays until it expires, for retries (above).
		if err := spendOnce(tx.Exec(`UPDATE refs SET used = TRUE WHERE code = ? AND used = FALSE`, code)); err != nil {
			return err
		}
		return tx.audit(EventIssued, certSubject(serial), map[string]string{"holder": strconv.FormatInt(h.ID, 10),
			"reference": protocol.RedactRef(code), "not_after": cert.NotAfter.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	a.precomputeOCSP(cert)
	return cert, nil
}

// errSpent: a row a transaction locked and found unspent was spent by
// another; the locks make it impossible, the database's word is final.
var errSpent = errors.New("ca: database: already spent")

// spendOnce checks that an update spending something (a reference, a
// coupon) changed exactly one row.
func spendOnce(res sql.Result, err error) error {
	if err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errSpent
	}
	return nil
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
// holder, new key. current must be valid, issued here, not revoked, not
// renewed before, and descend from no certificate revoked for another
// reason than being superseded. When the CA's policy requires it, coupon
// must be an unused coupon code, which the renewal consumes. The same
// request again (a client whose reply was lost) gets the same successor.
//
// current is revoked as superseded once its successor is issued, at once
// or after the overlap the CA's policy keeps (Config.RenewalOverlapDays).
//
// When renewals need an officer's approval (RenewalApproval), one that
// has none yet is a *RenewalPendingError (its request made), and one an
// officer refused is refused.
func (a *Authority) Reenroll(ctx context.Context, current *x509.Certificate, csr *x509.CertificateRequest, coupon string) (*x509.Certificate, error) {
	return a.ReenrollWith(ctx, current, csr, ReenrollOptions{Coupon: coupon})
}

// ReenrollOptions are what a renewal may carry besides its CSR.
type ReenrollOptions struct {
	Coupon string // the coupon code, when the CA's policy asks for one
	// Confirmed is the digest of the details the holder confirmed
	// (protocol.ConfirmedHeader); the renewal is refused when the CA's
	// record no longer gives it.
	Confirmed string
}

// ReenrollWith is Reenroll with its options.
func (a *Authority) ReenrollWith(ctx context.Context, current *x509.Certificate, csr *x509.CertificateRequest, o ReenrollOptions) (*x509.Certificate, error) {
	if err := a.checkCSR(csr); err != nil {
		return nil, err
	}
	now := time.Now()
	if err := a.verifyCurrent(current, now); err != nil {
		return nil, err
	}
	serial := serialHex(current.SerialNumber)
	var cert *x509.Certificate
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		cert, refusal = nil, nil
		cur, again, refused, err := renewable(tx, serial, csr.RawSubjectPublicKeyInfo, now)
		if err != nil || refused != nil || again != nil {
			cert, refusal = again, refused
			return err
		}
		couponHash, refused, err := a.redeemable(tx, o.Coupon)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		req, refused, err := a.approval(tx, cur, o.Confirmed, now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		cert, err = a.issueSuccessor(tx, cur, csr, successorOf{couponHash: couponHash, request: req, confirmed: o.Confirmed != ""}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	a.precomputeOCSP(cert)
	a.ocspRevoked([]string{serial}) // superseded, now or at the overlap's end
	return cert, nil
}

// renewable loads the certificate to renew and says whether it may be:
// known here, not revoked (but as superseded, by its own renewal), not
// renewed before, and no certificate it renewed revoked for another
// reason. A renewal already made for the same key is the same request
// again: it returns that successor (again). A refusal is the error for the
// client; err is the database's.
func renewable(tx *dbTx, serial string, spki []byte, now time.Time) (cur *certRow, again *x509.Certificate, refusal, err error) {
	revokedErr := apiErr(http.StatusForbidden, protocol.CodeRevoked, "the certificate is revoked and cannot be renewed")
	cur, err = loadCert(tx, serial)
	if errors.Is(err, ErrUnknownSerial) {
		return nil, nil, apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "the client certificate is unknown to this CA"), nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if cur.revokedAt(now) && cur.reason != reasonSuperseded {
		return nil, nil, revokedErr, nil
	}
	var der []byte
	switch err := tx.QueryRow(`SELECT der FROM certs WHERE predecessor = ?`, serial).Scan(&der); {
	case err == nil:
		if c, err := x509.ParseCertificate(der); err == nil && spki != nil && bytes.Equal(c.RawSubjectPublicKeyInfo, spki) {
			return nil, c, nil, nil // the same request again
		}
		return nil, nil, apiErr(http.StatusConflict, protocol.CodeAlreadyRenewed, "the certificate has already been renewed"), nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, nil, nil, fmt.Errorf("ca: database: %w", err)
	}
	if cur.revokedAt(now) {
		return nil, nil, revokedErr, nil
	}
	for p := cur.predecessor; p != ""; {
		anc, err := loadCert(tx, p)
		if err != nil {
			return nil, nil, nil, err
		}
		if anc.revokedAt(now) && anc.reason != reasonSuperseded {
			return nil, nil, apiErr(http.StatusForbidden, protocol.CodePredecessorRevoked,
				fmt.Sprintf("a certificate this one renewed is revoked (%s): it cannot be renewed; ask the CA for a new reference code", anc.reason)), nil
		}
		p = anc.predecessor
	}
	return cur, nil, nil, nil
}

// redeemable checks the coupon code a renewal needs when the CA's policy
// asks for one, and returns its hash ("" when none is needed).
func (a *Authority) redeemable(tx *dbTx, coupon string) (hash string, refusal, err error) {
	if !a.Config.RenewalNeedsCoupon {
		return "", nil, nil
	}
	if coupon == "" {
		return "", apiErr(http.StatusForbidden, protocol.CodeCouponRequired, "this CA renews certificates with a coupon code"), nil
	}
	hash = hashCoupon(coupon)
	var used sql.NullString
	err = tx.QueryRow(`SELECT used_by FROM coupons WHERE hash = ? FOR UPDATE`, hash).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) || used.Valid {
		return "", apiErr(http.StatusForbidden, protocol.CodeCouponInvalid, "the coupon code is unknown or already used"), nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("ca: database: %w", err)
	}
	return hash, nil, nil
}

// successorOf is what a successor is issued with besides its CSR.
type successorOf struct {
	couponHash string      // the coupon to spend, if any
	request    *renewalRow // its renewal request, if any
	confirmed  bool        // the holder confirmed the details
}

// issueSuccessor issues cur's successor for the CSR's key, records it,
// supersedes cur (at once, or after the policy's overlap), spends the
// coupon, if any, and completes the renewal request, if any.
func (a *Authority) issueSuccessor(tx *dbTx, cur *certRow, csr *x509.CertificateRequest, o successorOf, now time.Time) (*x509.Certificate, error) {
	h, err := loadHolder(tx, cur.holderID)
	if err != nil {
		return nil, err
	}
	cert, err := a.issue(h, csr.PublicKey, now)
	if err != nil {
		return nil, err
	}
	serial, newSerial := cur.serial, serialHex(cert.SerialNumber)
	if _, err = tx.Exec(`INSERT INTO certs(serial, holder_id, predecessor, issued, not_after, der) VALUES (?,?,?,?,?,?)`,
		newSerial, cur.holderID, serial, now.Unix(), cert.NotAfter.Unix(), cert.Raw); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	supersede := now.AddDate(0, 0, a.Config.RenewalOverlapDays)
	if _, err := tx.Exec(`UPDATE certs SET revoked = ?, reason = ? WHERE serial = ? AND revoked IS NULL`,
		supersede.Unix(), reasonSuperseded, serial); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	details := map[string]string{"holder": strconv.FormatInt(cur.holderID, 10), "predecessor": serial,
		"not_after": cert.NotAfter.UTC().Format(time.RFC3339), "predecessor_superseded": supersede.UTC().Format(time.RFC3339)}
	if o.couponHash != "" {
		if err := spendOnce(tx.Exec(`UPDATE coupons SET used_by = ?, used_at = ? WHERE hash = ? AND used_by IS NULL`, newSerial, now.Unix(), o.couponHash)); err != nil {
			return nil, err
		}
		details["coupon"] = "spent"
	}
	if r := o.request; r != nil {
		if err := spendOnce(tx.Exec(`UPDATE renewal_requests SET state = ?, successor = ? WHERE id = ? AND successor IS NULL`,
			protocol.RenewalDone, newSerial, r.id)); err != nil {
			return nil, err
		}
		details["request"] = strconv.FormatInt(r.id, 10)
	}
	details["details_confirmed"] = strconv.FormatBool(o.confirmed)
	return cert, tx.audit(EventRenewed, certSubject(newSerial), details)
}
