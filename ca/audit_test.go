package ca

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// auditLog is the whole trail, in order.
func auditLog(t *testing.T, a *Authority) []AuditRecord {
	t.Helper()
	var out []AuditRecord
	if err := a.ExportAudit(context.Background(), time.Time{}, func(r *AuditRecord) error {
		out = append(out, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A holder's life is in the trail, event by event, with who did it, and
// nothing secret: no reference code in full, no answer, no
// authorization code, no coupon code.
func TestAuditRecordsEvents(t *testing.T) {
	a := newCA(t, InitOptions{RenewalCoupon: true})
	ctx := WithActor(context.Background(), "operator:alice")
	ref, err := a.Enroll(ctx, holder())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Answer(ctx, ref, []string{"x", "y", "z"}); apiCode(err) != protocol.CodeWrongAnswers {
		t.Fatal(err)
	}
	q, _ := a.Questions(ctx, ref)
	auth, err := a.Answer(ctx, ref, rightAnswers(t, q))
	if err != nil {
		t.Fatal(err)
	}
	key := p256(t)
	csr := csrFor(t, key)
	cert, err := a.EnrollCSR(ctx, ref, protocol.EnrollPassword(auth.Code, csr.RawSubjectPublicKeyInfo), csr)
	if err != nil {
		t.Fatal(err)
	}
	coupons, err := a.CreateCoupons(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	next, err := a.Reenroll(WithActor(ctx, "client:192.0.2.7"), cert, csrFor(t, p256(t)), coupons[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RevokeChain(ctx, SerialOf(cert), reasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	newRef, err := a.Reissue(ctx, ref, false)
	if err != nil {
		t.Fatal(err)
	}
	log := auditLog(t, a)
	var got []string
	for _, r := range log {
		got = append(got, r.Event+" "+r.Subject+" "+r.Actor)
	}
	c, n := "certificate:"+SerialOf(cert), "certificate:"+SerialOf(next)
	want := []string{EventCreated + " ca operator",
		EventHolderEnrolled + " holder:1 operator:alice", EventAnswers + " holder:1 operator:alice", EventAnswers + " holder:1 operator:alice",
		EventIssued + " " + c + " operator:alice", EventCouponsCreated + " coupons operator:alice", EventRenewed + " " + n + " client:192.0.2.7",
		EventRevoked + " " + c + " operator:alice", EventRevoked + " " + n + " operator:alice", EventReissued + " holder:1 operator:alice"}
	if !slices.Equal(got, want) {
		t.Fatalf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var details map[string]string
	if err := json.Unmarshal(log[2].Details, &details); err != nil || details["outcome"] != "rejected" || details["attempts_left"] != "4" {
		t.Errorf("wrong answers: %s %v", log[2].Details, err)
	}
	all, _ := json.Marshal(log)
	for _, secret := range append([]string{ref, newRef, auth.Code, coupons[0], coupons[1]}, slices.Collect(mapsValues(answers))...) {
		if strings.Contains(strings.ToLower(string(all)), strings.ToLower(secret)) {
			t.Errorf("the trail holds a secret: %q", secret)
		}
	}
	if _, err := a.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func mapsValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(strings.TrimSpace(v)) {
				return
			}
		}
	}
}

// The database itself refuses to change or remove a record.
func TestAuditAppendOnly(t *testing.T) {
	a := newCA(t, InitOptions{})
	for _, q := range []string{`UPDATE audit SET actor = 'nobody' WHERE seq = 1`, `DELETE FROM audit WHERE seq = 1`} {
		if _, err := a.db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

// tamper lets the test do what the triggers forbid, as someone who owns
// the database could.
func tamper(t *testing.T, a *Authority, q string, args ...any) {
	t.Helper()
	drop := []string{`DROP TRIGGER audit_no_update`, `DROP TRIGGER audit_no_delete`}
	if a.db.dialect == postgresDB {
		drop = []string{`ALTER TABLE audit DISABLE TRIGGER USER`}
	}
	for _, d := range drop {
		if _, err := a.db.Exec(d); err != nil && !strings.Contains(err.Error(), "no such trigger") {
			t.Fatal(err)
		}
	}
	if _, err := a.db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// Whatever is done to one record in the database, audit verification
// fails and names it.
func TestAuditVerifyFindsTampering(t *testing.T) {
	for _, tt := range []struct {
		name string
		do   func(t *testing.T, a *Authority)
		want AuditProblem
	}{
		{"removed", func(t *testing.T, a *Authority) { tamper(t, a, `DELETE FROM audit WHERE seq = 3`) },
			AuditProblem{Kind: AuditMissing, Seq: 3, Last: 3}},
		{"changed", func(t *testing.T, a *Authority) {
			tamper(t, a, `UPDATE audit SET details = replace(details, 'Luca', 'Lucia') WHERE seq = 2`)
		}, AuditProblem{Kind: AuditChanged, Seq: 2}},
		{"rehashed", func(t *testing.T, a *Authority) {
			// Changed, and given the hash its new content has.
			r := auditLog(t, a)[3]
			r.Actor = "operator:mallory"
			tamper(t, a, `UPDATE audit SET actor = ?, hash = ? WHERE seq = 4`, r.Actor, r.computeHash())
		}, AuditProblem{Kind: AuditUnchained, Seq: 5}},
		{"last removed", func(t *testing.T, a *Authority) { tamper(t, a, `DELETE FROM audit WHERE seq = 5`) },
			AuditProblem{Kind: AuditTruncated, Seq: 5, Last: 5}},
		{"renumbered", func(t *testing.T, a *Authority) {
			tamper(t, a, `DELETE FROM audit WHERE seq = 2`)
			tamper(t, a, `UPDATE audit SET seq = seq - 1 WHERE seq > 2`)
		}, AuditProblem{Kind: AuditChanged, Seq: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newCA(t, InitOptions{})
			ctx := context.Background()
			for range 2 { // records 2 and 3, 4 and 5
				ref, err := a.Enroll(ctx, holder())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := a.Reissue(ctx, ref, true); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := a.VerifyAudit(ctx); err != nil {
				t.Fatalf("before: %v", err)
			}
			tt.do(t, a)
			_, err := a.VerifyAudit(ctx)
			var ae *AuditError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuditBroken) {
				t.Fatalf("verify: %v", err)
			}
			if ae.Problems[0] != tt.want {
				t.Fatalf("problems %+v, want first %+v", ae.Problems, tt.want)
			}
		})
	}
}

// The hashes are the documented encoding's, as PostgreSQL's own sha256
// computes it from the columns: an implementation that is not ours.
func TestAuditEncodingIndependent(t *testing.T) {
	a := newCA(t, InitOptions{})
	if a.db.dialect != postgresDB {
		t.Skip("PostgreSQL computes the hashes; SQLite has no SHA-256")
	}
	ctx := context.Background()
	if _, err := a.Enroll(ctx, holder()); err != nil {
		t.Fatal(err)
	}
	// ns(x) is x's netstring.
	if _, err := a.db.Exec(`CREATE FUNCTION ns(x text) RETURNS text LANGUAGE sql IMMUTABLE
		AS $$ SELECT octet_length(x)::text || ':' || x || ',' $$`); err != nil {
		t.Fatal(err)
	}
	rows, err := a.db.Query(`SELECT seq, hash, encode(sha256(convert_to(
		ns('paraphe-audit-1') || ns(seq::text) || ns(at) || ns(event) || ns(actor) || ns(subject) || ns(details) || ns(prev),
		'UTF8')), 'hex'), prev = COALESCE(lag(hash) OVER (ORDER BY seq), repeat('0', 64)) FROM audit ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var seq int64
		var hash, theirs string
		var linked bool
		if err := rows.Scan(&seq, &hash, &theirs, &linked); err != nil {
			t.Fatal(err)
		}
		if hash != theirs || !linked {
			t.Errorf("record %d: hash %s, PostgreSQL's %s, linked %v", seq, hash, theirs, linked)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d records", n)
	}
}

// Enrolments on two replicas at once keep one chain.
func TestAuditOneChainForReplicas(t *testing.T) {
	a := newCA(t, InitOptions{})
	rs := replicas(t, a)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := rs[i%2].CreateCoupons(ctx, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sum, err := a.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 9 {
		t.Fatalf("%d records, want 9", sum.Records)
	}
}

func TestAuditExportSince(t *testing.T) {
	a := newCA(t, InitOptions{})
	tamper(t, a, `UPDATE audit SET at = '2001-01-01T00:00:00.000000Z' WHERE seq = 1`)
	since := time.Now().Add(-time.Hour)
	var seqs []int64
	a.ExportAudit(context.Background(), since, func(r *AuditRecord) error {
		seqs = append(seqs, r.Seq)
		return nil
	})
	if _, err := a.CreateCoupons(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	var after []int64
	a.ExportAudit(context.Background(), since, func(r *AuditRecord) error {
		after = append(after, r.Seq)
		return nil
	})
	if len(seqs) != 0 || !slices.Equal(after, []int64{2}) {
		t.Fatalf("since an hour ago: %v, then %v", seqs, after)
	}
}
