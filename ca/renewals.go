package ca

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paraphe/paraphe/protocol"
)

// Renewal under a registration officer's approval. The CA's policy
// (RenewalApproval) is kept in the database rather than in config.json:
// the servers sharing a database each have their own copy of the CA
// folder, and a rule on who may be renewed must change for all of them at
// once, with its change in the audit trail.
//
// With the policy on, a renewal makes a request (renewal_requests, one per
// certificate, ever) in state awaiting_approval; an officer approves or
// refuses it (with a reason the holder is shown); the holder's next
// renewal of an approved request is issued (the request is then
// renewed). A refusal is final for that certificate, whatever the policy
// later: the holder is told to contact the CA. An officer may refuse a
// request already approved while its successor is not issued.

// Events of renewals under approval.
const (
	EventRenewalRequested = "renewal.requested"
	EventPolicyChanged    = "policy.changed"
)

// Errors of the officers' decisions.
var (
	ErrUnknownRequest = errors.New("ca: no renewal request with that number")
	// ErrRequestDecided: the request is not awaiting approval (any more).
	ErrRequestDecided = errors.New("ca: the renewal request has already been decided")
	// ErrRequestStale: the certificate to renew was revoked or has
	// expired since the request: it cannot be renewed.
	ErrRequestStale = errors.New("ca: the certificate of the renewal request is revoked or expired")
	// ErrRequestFormat: not a request number.
	ErrRequestFormat = errors.New("ca: not a renewal request number")
)

// RenewalPendingError: the renewal waits for an officer's approval. The
// request was made (or already was): the same renewal asked again once it
// is approved goes through.
type RenewalPendingError struct{ Request protocol.RenewalRequest }

func (e *RenewalPendingError) Error() string {
	return fmt.Sprintf("ca: renewal request %d awaits a registration officer's approval", e.Request.ID)
}

// RenewalApproval reports whether renewals wait for an officer's approval.
func (a *Authority) RenewalApproval(ctx context.Context) (bool, error) {
	var on bool
	if err := a.db.QueryRowContext(ctx, `SELECT renewal_approval FROM ca_policy WHERE id = 1`).Scan(&on); err != nil {
		return false, fmt.Errorf("ca: database: %w", err)
	}
	return on, nil
}

// SetRenewalApproval sets the policy, for every server of the database at
// once, and reports whether it changed.
func (a *Authority) SetRenewalApproval(ctx context.Context, on bool) (changed bool, err error) {
	err = a.db.tx(ctx, func(tx *dbTx) error {
		changed = false
		var was bool
		if err := tx.QueryRow(`SELECT renewal_approval FROM ca_policy WHERE id = 1 FOR UPDATE`).Scan(&was); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		if was == on {
			return nil
		}
		changed = true
		return setRenewalApproval(tx, on)
	})
	return changed, err
}

func setRenewalApproval(tx *dbTx, on bool) error {
	if _, err := tx.Exec(`UPDATE ca_policy SET renewal_approval = ? WHERE id = 1`, on); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return tx.audit(EventPolicyChanged, "ca", map[string]string{"renewal_approval": strconv.FormatBool(on)})
}

// detailsOf is what a certificate issued for h carries, for the holder
// to confirm.
func detailsOf(h *Holder) protocol.RenewalDetails {
	d := protocol.RenewalDetails{Name: h.Name, Title: h.Title, MemberNumber: h.MemberNumber, Organization: h.Organization,
		Email: h.Email, Seal: h.Seal, OrganizationID: h.OrganizationID, Country: h.Country}
	// Netstrings, as the audit trail's records.
	var b bytes.Buffer
	for _, f := range []string{"paraphe-details-1", d.Name, d.Title, d.MemberNumber, d.Organization, d.Email,
		strconv.FormatBool(d.Seal), d.OrganizationID, d.Country} {
		fmt.Fprintf(&b, "%d:%s,", len(f), f)
	}
	sum := sha256.Sum256(b.Bytes())
	d.Digest = hex.EncodeToString(sum[:])
	return d
}

// verifyCurrent checks that current, a renewal's TLS client certificate,
// is a valid certificate of this CA at now.
func (a *Authority) verifyCurrent(current *x509.Certificate, now time.Time) error {
	pool := x509.NewCertPool()
	pool.AddCert(a.Root)
	inter := x509.NewCertPool()
	inter.AddCert(a.Issuer)
	if _, err := current.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return apiErr(http.StatusUnauthorized, protocol.CodeUnauthorized, "the client certificate is not a valid certificate of this CA")
	}
	return nil
}

// RenewalDetails returns what the successor of current will carry (the
// CA's record of its holder), whether renewals need an officer's
// approval, and current's renewal request if it has one. A certificate
// that cannot be renewed is refused as Reenroll would refuse it.
func (a *Authority) RenewalDetails(ctx context.Context, current *x509.Certificate) (*protocol.RenewalDetails, error) {
	now := time.Now()
	if err := a.verifyCurrent(current, now); err != nil {
		return nil, err
	}
	var d protocol.RenewalDetails
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		cur, _, refused, err := renewable(tx, serialHex(current.SerialNumber), nil, now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		h, err := loadHolder(tx, cur.holderID)
		if err != nil {
			return err
		}
		d = detailsOf(h)
		if err := tx.QueryRow(`SELECT renewal_approval FROM ca_policy WHERE id = 1`).Scan(&d.ApprovalRequired); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		req, err := loadRenewalRequest(tx, cur.serial)
		if req != nil {
			d.Request = req.public()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return &d, nil
}

// RequestRenewal makes current's renewal request, when the CA's policy
// needs one and it has none yet, and returns it: awaiting approval (a
// *RenewalPendingError), approved, or, when no approval is needed, one
// of ID 0 in state protocol.RenewalNotNeeded. confirmed is the digest of
// the details the holder confirmed (RenewalDetails), or "".
func (a *Authority) RequestRenewal(ctx context.Context, current *x509.Certificate, confirmed string) (*protocol.RenewalRequest, error) {
	now := time.Now()
	if err := a.verifyCurrent(current, now); err != nil {
		return nil, err
	}
	var out *protocol.RenewalRequest
	var refusal error
	err := a.db.tx(ctx, func(tx *dbTx) error {
		out, refusal = nil, nil
		cur, _, refused, err := renewable(tx, serialHex(current.SerialNumber), nil, now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		req, refused, err := a.approval(tx, cur, confirmed, now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		out = &protocol.RenewalRequest{State: protocol.RenewalNotNeeded}
		if req != nil && req.state == protocol.RenewalApproved {
			out = req.public()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return out, nil
}

// approval decides, in a renewal's transaction, whether cur may be
// renewed now as far as officers are concerned: refused when an officer
// refused it or when the holder confirmed details that are no longer the
// CA's; a *RenewalPendingError when the policy needs an approval it does
// not have yet (the request is made, and recorded, if there was none);
// otherwise its request, if it has one.
func (a *Authority) approval(tx *dbTx, cur *certRow, confirmed string, now time.Time) (*renewalRow, error, error) {
	req, err := loadRenewalRequest(tx, cur.serial)
	if err != nil {
		return nil, nil, err
	}
	if req != nil && req.state == protocol.RenewalRefused {
		return nil, req.refusal(), nil
	}
	h, err := loadHolder(tx, cur.holderID)
	if err != nil {
		return nil, nil, err
	}
	if confirmed != "" && confirmed != detailsOf(h).Digest {
		return nil, apiErr(http.StatusConflict, protocol.CodeDetailsChanged,
			"the CA's record of the holder changed since it was confirmed: confirm it again"), nil
	}
	var on bool
	if err := tx.QueryRow(`SELECT renewal_approval FROM ca_policy WHERE id = 1`).Scan(&on); err != nil {
		return nil, nil, fmt.Errorf("ca: database: %w", err)
	}
	if !on || (req != nil && req.state == protocol.RenewalApproved) {
		return req, nil, nil
	}
	if req == nil {
		req = &renewalRow{serial: cur.serial, holderID: cur.holderID, state: protocol.RenewalAwaiting,
			created: now.Unix(), confirmed: confirmed != ""}
		if err := tx.QueryRow(`INSERT INTO renewal_requests(serial, holder_id, state, created, confirmed) VALUES (?,?,?,?,?) RETURNING id`,
			req.serial, req.holderID, req.state, req.created, req.confirmed).Scan(&req.id); err != nil {
			return nil, nil, fmt.Errorf("ca: database: %w", err)
		}
		if err := tx.audit(EventRenewalRequested, certSubject(cur.serial), map[string]string{"request": strconv.FormatInt(req.id, 10),
			"holder": strconv.FormatInt(cur.holderID, 10), "details_confirmed": strconv.FormatBool(req.confirmed)}); err != nil {
			return nil, nil, err
		}
	}
	return nil, &RenewalPendingError{Request: *req.public()}, nil
}

// renewalRow is a row of renewal_requests.
type renewalRow struct {
	id, holderID    int64
	serial, state   string
	created         int64
	confirmed       bool
	decided         sql.NullInt64
	officer, reason sql.NullString
	successor       sql.NullString
}

const renewalColumns = `id, serial, holder_id, state, created, confirmed, decided, officer, reason, successor`

func (r *renewalRow) scan(s interface{ Scan(...any) error }) error {
	return s.Scan(&r.id, &r.serial, &r.holderID, &r.state, &r.created, &r.confirmed, &r.decided, &r.officer, &r.reason, &r.successor)
}

// loadRenewalRequest is the request of the certificate serial, or nil.
func loadRenewalRequest(q querier, serial string) (*renewalRow, error) {
	r := &renewalRow{}
	err := r.scan(q.QueryRow(`SELECT `+renewalColumns+` FROM renewal_requests WHERE serial = ?`+forUpdate(q), serial))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	return r, nil
}

func (r *renewalRow) public() *protocol.RenewalRequest {
	p := &protocol.RenewalRequest{ID: r.id, State: r.state, Created: time.Unix(r.created, 0).UTC(), Reason: r.reason.String}
	if r.decided.Valid {
		t := time.Unix(r.decided.Int64, 0).UTC()
		p.Decided = &t
	}
	return p
}

// refusal is the refusal of a renewal an officer refused.
func (r *renewalRow) refusal() *APIError {
	e := apiErr(http.StatusForbidden, protocol.CodeRenewalRefused,
		fmt.Sprintf("a registration officer refused renewal request %d: %s", r.id, r.reason.String))
	e.Reason = r.reason.String
	return e
}

// PendingRenewals returns the requests awaiting an officer's approval,
// oldest first: those whose certificate may still be renewed.
func (a *Authority) PendingRenewals(ctx context.Context) ([]protocol.PendingRenewal, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT r.`+strings.ReplaceAll(renewalColumns, ", ", ", r.")+`, c.not_after
		FROM renewal_requests r JOIN certs c ON c.serial = r.serial
		WHERE r.state = ? AND c.revoked IS NULL AND c.not_after > ? ORDER BY r.id`, protocol.RenewalAwaiting, time.Now().Unix())
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	type pending struct {
		r        renewalRow
		notAfter int64
	}
	var ps []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.r.id, &p.r.serial, &p.r.holderID, &p.r.state, &p.r.created, &p.r.confirmed,
			&p.r.decided, &p.r.officer, &p.r.reason, &p.r.successor, &p.notAfter); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	out := []protocol.PendingRenewal{}
	for _, p := range ps {
		h, err := loadHolder(a.db, p.r.holderID)
		if err != nil {
			return nil, err
		}
		out = append(out, p.r.view(h, p.notAfter))
	}
	return out, nil
}

// view is the request as an officer sees it.
func (r *renewalRow) view(h *Holder, notAfter int64) protocol.PendingRenewal {
	return protocol.PendingRenewal{RenewalRequest: *r.public(), Holder: r.holderID, Details: detailsOf(h), Serial: r.serial,
		NotAfter: time.Unix(notAfter, 0).UTC(), Confirmed: r.confirmed, Officer: r.officer.String}
}

// ParseRequestID reads a renewal request's number: "42" or "#42".
func ParseRequestID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "#"), 10, 64)
	if err != nil || n < 1 {
		return 0, ErrRequestFormat
	}
	return n, nil
}

// Approve approves renewal request id: the holder's next renewal of that
// certificate is issued.
func (s *OfficerSession) Approve(ctx context.Context, id int64) (*protocol.PendingRenewal, error) {
	return s.decide(ctx, id, "")
}

// Refuse refuses renewal request id, for reason (shown to the holder; at
// most protocol.MaxReasonLength characters): the certificate cannot be
// renewed. An approved request not yet renewed may be refused still.
func (s *OfficerSession) Refuse(ctx context.Context, id int64, reason string) (*protocol.PendingRenewal, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return nil, &InputError{"reason", "is required: the holder is shown it"}
	case utf8.RuneCountInString(reason) > protocol.MaxReasonLength:
		return nil, &InputError{"reason", fmt.Sprintf("is longer than %d characters", protocol.MaxReasonLength)}
	case strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return nil, &InputError{"reason", "holds control characters (line breaks, tabs…)"}
	}
	return s.decide(ctx, id, reason)
}

// decide approves request id (reason "") or refuses it for reason.
func (s *OfficerSession) decide(ctx context.Context, id int64, reason string) (*protocol.PendingRenewal, error) {
	ctx = s.as(ctx)
	var out protocol.PendingRenewal
	err := s.a.db.tx(ctx, func(tx *dbTx) error {
		// Disabled since the login (a session of the HTTP API): no decision.
		o, err := loadOfficer(tx, s.Officer)
		if err != nil {
			return err
		}
		if o.disabled.Valid {
			return ErrOfficerDisabled
		}
		r := &renewalRow{}
		switch err := r.scan(tx.QueryRow(`SELECT `+renewalColumns+` FROM renewal_requests WHERE id = ? FOR UPDATE`, id)); {
		case errors.Is(err, sql.ErrNoRows):
			return ErrUnknownRequest
		case err != nil:
			return fmt.Errorf("ca: database: %w", err)
		}
		if r.state != protocol.RenewalAwaiting && (reason == "" || r.state != protocol.RenewalApproved) {
			return fmt.Errorf("%w: it is %s", ErrRequestDecided, r.state)
		}
		var notAfter int64
		var revoked sql.NullInt64
		if err := tx.QueryRow(`SELECT not_after, revoked FROM certs WHERE serial = ?`, r.serial).Scan(&notAfter, &revoked); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		now := time.Now()
		if reason == "" && (revoked.Valid || notAfter <= now.Unix()) {
			return ErrRequestStale
		}
		event, state := EventRenewalApproved, protocol.RenewalApproved
		if reason != "" {
			event, state = EventRenewalRefused, protocol.RenewalRefused
		}
		if _, err := tx.Exec(`UPDATE renewal_requests SET state = ?, decided = ?, officer = ?, reason = ? WHERE id = ?`,
			state, now.Unix(), s.Officer, sql.NullString{String: reason, Valid: reason != ""}, id); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		r.state, r.decided = state, sql.NullInt64{Int64: now.Unix(), Valid: true}
		r.officer, r.reason = sql.NullString{String: s.Officer, Valid: true}, sql.NullString{String: reason, Valid: reason != ""}
		h, err := loadHolder(tx, r.holderID)
		if err != nil {
			return err
		}
		out = r.view(h, notAfter)
		d := map[string]string{"request": strconv.FormatInt(id, 10), "holder": strconv.FormatInt(r.holderID, 10)}
		if reason != "" {
			d["reason"] = reason
		}
		return tx.audit(event, certSubject(r.serial), d)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
