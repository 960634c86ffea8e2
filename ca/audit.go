package ca

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The audit trail records every enrolment, reference code reissued,
// answer check, issuance, renewal, revocation and the operator's actions
// with the root key (and, with registration officers, approvals and
// logins), each in the transaction of the event itself: there is no event
// without its record, nor a record of what did not happen. Records are
// append-only (database triggers refuse UPDATE and DELETE) and chained:
// each carries the hash of the one before, so that removing, changing or
// reordering one breaks the chain where it was done, which VerifyAudit
// finds and names. Appending locks the chain's head (audit_head), so
// replicas on one PostgreSQL database write one chain.
//
// A record's hash is the hex SHA-256 of its canonical encoding: the
// netstrings (length in bytes, in decimal, ":", the bytes, ",") of, in
// this order,
//
//	"paraphe-audit-1", seq (decimal), at, event, actor, subject, details, prev
//
// as the database holds them: at is UTC with microseconds
// (2026-12-01T09:30:00.123456Z), details a JSON object of strings, prev
// the previous record's hash (64 zeros for the first record). Record 1:
//
//	15:paraphe-audit-1,1:1,27:2026-12-01T09:30:00.123456Z,…,64:000…0,
//
// In PostgreSQL a record's hash is recomputed by
//
//	encode(sha256(convert_to(ns('paraphe-audit-1') || ns(seq::text) || ns(at)
//	  || ns(event) || ns(actor) || ns(subject) || ns(details) || ns(prev), 'UTF8')), 'hex')
//
// with ns(x) = octet_length(x) || ':' || x || ','.
//
// Records never hold a secret: reference codes are shown redacted
// (ABCD-****), coupon codes not at all, answers and authorization codes
// never.

// Events of the audit trail.
const (
	EventCreated          = "ca.created"
	EventHolderEnrolled   = "holder.enrolled"
	EventReissued         = "reference.reissued"
	EventAnswers          = "activation.answers" // details: outcome accepted, rejected or locked
	EventIssued           = "certificate.issued"
	EventRenewed          = "certificate.renewed"
	EventRevoked          = "certificate.revoked"
	EventCouponsCreated   = "coupons.created"
	EventServiceRenewed   = "authority.renewed" // the TLS or TSA certificate, by the root
	EventRootCRLSigned    = "root_crl.signed"
	EventRenewalApproved  = "renewal.approved"
	EventRenewalRefused   = "renewal.refused"
	EventOfficerLogin     = "officer.login"
	EventOfficerLoginFail = "officer.login_failed"
)

// auditFormat is the first field of every record's canonical encoding.
const auditFormat = "paraphe-audit-1"

// auditTime is how at is written: fixed width, so that text order is
// time order.
const auditTime = "2006-01-02T15:04:05.000000Z"

var genesis = strings.Repeat("0", 64)

// AuditRecord is a record of the audit trail, as export writes it.
type AuditRecord struct {
	Seq     int64           `json:"seq"`
	At      string          `json:"at"`
	Event   string          `json:"event"`
	Actor   string          `json:"actor"`
	Subject string          `json:"subject"`
	Details json.RawMessage `json:"details"`
	Prev    string          `json:"prev"`
	Hash    string          `json:"hash"`
}

// canonical is the record's canonical encoding (see above).
func (r *AuditRecord) canonical() []byte {
	var b bytes.Buffer
	for _, f := range []string{auditFormat, strconv.FormatInt(r.Seq, 10), r.At, r.Event, r.Actor, r.Subject, string(r.Details), r.Prev} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte(',')
	}
	return b.Bytes()
}

func (r *AuditRecord) computeHash() string {
	sum := sha256.Sum256(r.canonical())
	return hex.EncodeToString(sum[:])
}

// actorKey carries who acts in a context.
type actorKey struct{}

// WithActor says who acts, for the audit trail, in what is done with
// ctx: "operator:NAME" for an operator's command, "officer:NAME" for a
// registration officer. The HTTP server sets "client:ADDRESS" itself.
// Without one, the actor is "operator".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

func actorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "operator"
}

// clientActor makes the client's address the actor of what its request
// does.
func clientActor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		h.ServeHTTP(w, r.WithContext(WithActor(r.Context(), "client:"+host)))
	})
}

// audit appends a record of event, about subject, to the audit trail, in
// the transaction: it is written if, and only if, the transaction
// commits. The actor is the context's (WithActor). details must hold no
// secret.
func (t *dbTx) audit(event, subject string, details map[string]string) error {
	if details == nil {
		details = map[string]string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(details); err != nil { // keys sorted
		return fmt.Errorf("ca: audit: %w", err)
	}
	r := AuditRecord{Event: event, Actor: actorOf(t.ctx), Subject: subject,
		Details: bytes.TrimSuffix(buf.Bytes(), []byte("\n"))}
	// The head, locked until the transaction ends: appends are one at a
	// time, whichever replica makes them.
	if err := t.QueryRow(`SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&r.Seq, &r.Prev); err != nil {
		return fmt.Errorf("ca: audit: %w", err)
	}
	r.Seq++
	r.At = time.Now().UTC().Format(auditTime)
	r.Hash = r.computeHash()
	if _, err := t.Exec(`INSERT INTO audit(seq, at, event, actor, subject, details, prev, hash) VALUES (?,?,?,?,?,?,?,?)`,
		r.Seq, r.At, r.Event, r.Actor, r.Subject, string(r.Details), r.Prev, r.Hash); err != nil {
		return fmt.Errorf("ca: audit: %w", err)
	}
	if _, err := t.Exec(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, r.Seq, r.Hash); err != nil {
		return fmt.Errorf("ca: audit: %w", err)
	}
	return nil
}

// audit records an event that changes nothing else (an officer's login),
// in a transaction of its own.
func (a *Authority) audit(ctx context.Context, event, subject string, details map[string]string) error {
	return a.db.tx(ctx, func(tx *dbTx) error { return tx.audit(event, subject, details) })
}

// Subjects of audit records.
func holderSubject(id int64) string    { return "holder:" + strconv.FormatInt(id, 10) }
func certSubject(serial string) string { return "certificate:" + serial }

// ErrAuditBroken: the audit trail is not the chain it was written as.
var ErrAuditBroken = errors.New("ca: the audit trail is broken")

// Problems VerifyAudit finds.
const (
	// AuditChanged: the record's content does not give its hash.
	AuditChanged = "changed"
	// AuditMissing: records from Seq to Last are not there.
	AuditMissing = "missing"
	// AuditUnchained: the record does not follow the one before it (one of
	// the two was replaced, with a hash made to match).
	AuditUnchained = "unchained"
	// AuditTruncated: the chain's head names records from Seq to Last
	// that are not there: the last ones were removed.
	AuditTruncated = "truncated"
	// AuditHeadMismatch: the head's hash is not the last record's.
	AuditHeadMismatch = "head"
)

// AuditProblem is one break in the chain.
type AuditProblem struct {
	Kind string `json:"kind"` // AuditChanged, AuditMissing…
	Seq  int64  `json:"seq"`  // the record concerned, or the first missing
	Last int64  `json:"last,omitempty"`
}

// AuditError is a broken audit trail; it matches ErrAuditBroken.
type AuditError struct {
	Problems []AuditProblem // the first ones, at most maxAuditProblems
	Records  int64          // the records read
}

const maxAuditProblems = 20

func (e *AuditError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		switch p.Kind {
		case AuditMissing, AuditTruncated:
			parts = append(parts, fmt.Sprintf("records %d to %d %s", p.Seq, p.Last, p.Kind))
		default:
			parts = append(parts, fmt.Sprintf("record %d %s", p.Seq, p.Kind))
		}
	}
	return "ca: the audit trail is broken: " + strings.Join(parts, "; ")
}

func (e *AuditError) Is(target error) bool { return target == ErrAuditBroken }

// AuditSummary is an intact audit trail.
type AuditSummary struct {
	Records int64  `json:"records"`
	Head    string `json:"head"` // the last record's hash: note it down to anchor the chain
	First   string `json:"first,omitempty"`
	Last    string `json:"last,omitempty"` // times of the first and last records
}

// VerifyAudit reads the whole audit trail and checks the chain: each
// record's hash, each link to the one before, no number missing, and the
// head. A broken trail is an *AuditError naming the records.
func (a *Authority) VerifyAudit(ctx context.Context) (*AuditSummary, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT seq, at, event, actor, subject, details, prev, hash FROM audit ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	defer rows.Close()
	v := auditVerifier{prev: genesis, next: 1}
	var sum AuditSummary
	for rows.Next() {
		var r AuditRecord
		var details string
		if err := rows.Scan(&r.Seq, &r.At, &r.Event, &r.Actor, &r.Subject, &details, &r.Prev, &r.Hash); err != nil {
			return nil, fmt.Errorf("ca: database: %w", err)
		}
		r.Details = json.RawMessage(details)
		v.check(&r)
		if sum.First == "" {
			sum.First = r.At
		}
		sum.Last = r.At
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	var head AuditRecord
	if err := a.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return nil, fmt.Errorf("ca: database: %w", err)
	}
	v.checkHead(head.Seq, head.Hash)
	if len(v.problems) > 0 {
		return nil, &AuditError{Problems: v.problems, Records: v.read}
	}
	sum.Records, sum.Head = v.read, v.prev
	return &sum, nil
}

// auditVerifier walks the chain in order of seq.
type auditVerifier struct {
	prev     string // the hash of the last record read
	next     int64  // the seq expected next
	read     int64
	problems []AuditProblem
}

func (v *auditVerifier) problem(p AuditProblem) {
	if len(v.problems) < maxAuditProblems {
		v.problems = append(v.problems, p)
	}
}

func (v *auditVerifier) check(r *AuditRecord) {
	v.read++
	gap := r.Seq != v.next
	if gap {
		v.problem(AuditProblem{Kind: AuditMissing, Seq: v.next, Last: r.Seq - 1})
	}
	switch {
	case r.computeHash() != r.Hash:
		v.problem(AuditProblem{Kind: AuditChanged, Seq: r.Seq})
	case !gap && r.Prev != v.prev:
		v.problem(AuditProblem{Kind: AuditUnchained, Seq: r.Seq})
	}
	v.prev, v.next = r.Hash, r.Seq+1
}

func (v *auditVerifier) checkHead(seq int64, hash string) {
	last := v.next - 1
	switch {
	case seq > last:
		v.problem(AuditProblem{Kind: AuditTruncated, Seq: last + 1, Last: seq})
	case seq < last || hash != v.prev:
		v.problem(AuditProblem{Kind: AuditHeadMismatch, Seq: seq})
	}
}

// ExportAudit calls each with the records made at or after since, in
// order, until it returns an error.
func (a *Authority) ExportAudit(ctx context.Context, since time.Time, each func(*AuditRecord) error) error {
	rows, err := a.db.QueryContext(ctx, `SELECT seq, at, event, actor, subject, details, prev, hash FROM audit WHERE at >= ? ORDER BY seq`,
		since.UTC().Format(auditTime))
	if err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r AuditRecord
		var details string
		if err := rows.Scan(&r.Seq, &r.At, &r.Event, &r.Actor, &r.Subject, &details, &r.Prev, &r.Hash); err != nil {
			return fmt.Errorf("ca: database: %w", err)
		}
		r.Details = json.RawMessage(details)
		if err := each(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ca: database: %w", err)
	}
	return nil
}
