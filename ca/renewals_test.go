package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/paraphe/paraphe/protocol"
)

// approvalCA is a CA whose renewals need an officer's approval, with an
// officer logged in and a holder's certificate.
func approvalCA(t *testing.T) (*Authority, *OfficerSession, *x509.Certificate) {
	t.Helper()
	a := newCA(t, InitOptions{RenewalApproval: true})
	cert, err := activate(t, a, mustEnroll(t, a), p256(t))
	if err != nil {
		t.Fatal(err)
	}
	k := addOfficer(t, a, "alice")
	s, err := a.LoginOfficer(context.Background(), "alice", []byte(officerPassword), officerCode(t, k, 0))
	if err != nil {
		t.Fatal(err)
	}
	return a, s, cert
}

// requestErr is RequestRenewal's error.
func requestErr(a *Authority, cert *x509.Certificate, confirmed string) error {
	_, err := a.RequestRenewal(context.Background(), cert, confirmed)
	return err
}

func pendingOf(t *testing.T, err error) protocol.RenewalRequest {
	t.Helper()
	var pe *RenewalPendingError
	if !errors.As(err, &pe) || pe.Request.State != protocol.RenewalAwaiting || pe.Request.ID == 0 {
		t.Fatalf("want a renewal awaiting approval, got %v", err)
	}
	return pe.Request
}

// The holder confirms the details the successor will carry; the renewal
// waits for an officer, asked again it is the same request; once
// approved the same renewal goes through, and the request is done.
func TestRenewalAwaitsApproval(t *testing.T) {
	a, s, cert := approvalCA(t)
	ctx := WithActor(context.Background(), "client:192.0.2.7")
	d, err := a.RenewalDetails(ctx, cert)
	if err != nil {
		t.Fatal(err)
	}
	h := holder()
	if !d.ApprovalRequired || d.Request != nil || d.Name != h.Name || d.Title != h.Title || d.MemberNumber != h.MemberNumber ||
		d.Organization != h.Organization || len(d.Digest) != 64 {
		t.Fatalf("details %+v", d)
	}
	csr := csrFor(t, p256(t))
	req := pendingOf(t, func() error {
		_, err := a.ReenrollWith(ctx, cert, csr, ReenrollOptions{Confirmed: d.Digest})
		return err
	}())
	if again := pendingOf(t, requestErr(a, cert, d.Digest)); again.ID != req.ID {
		t.Fatalf("asked again: request %d, then %d", req.ID, again.ID)
	}
	if d, _ := a.RenewalDetails(ctx, cert); d.Request == nil || d.Request.ID != req.ID || d.Request.State != protocol.RenewalAwaiting {
		t.Fatalf("the request in the details: %+v", d.Request)
	}
	ps, err := a.PendingRenewals(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != req.ID || ps[0].Serial != SerialOf(cert) || !ps[0].Confirmed || ps[0].Details.Name != h.Name {
		t.Fatalf("pending %+v, %v", ps, err)
	}
	if p, err := s.Approve(ctx, req.ID); err != nil || p.State != protocol.RenewalApproved || p.Officer != "alice" {
		t.Fatalf("approve: %+v, %v", p, err)
	}
	if _, err := s.Approve(ctx, req.ID); !errors.Is(err, ErrRequestDecided) {
		t.Fatalf("approve twice: %v", err)
	}
	if ps, _ := a.PendingRenewals(ctx); len(ps) != 0 {
		t.Fatalf("still pending: %+v", ps)
	}
	next, err := a.ReenrollWith(ctx, cert, csr, ReenrollOptions{Confirmed: d.Digest})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := a.Reenroll(ctx, cert, csr, ""); err != nil || !again.Equal(next) {
		t.Fatalf("the same renewal again: %v", err)
	}
	var state, successor string
	a.db.QueryRow(`SELECT state, successor FROM renewal_requests WHERE id = ?`, req.ID).Scan(&state, &successor)
	if state != protocol.RenewalDone || successor != SerialOf(next) {
		t.Fatalf("request %s, successor %s", state, successor)
	}
	// Each step in the trail, the approval by the officer.
	var got []string
	for _, r := range auditLog(t, a) {
		switch r.Event {
		case EventRenewalRequested, EventRenewalApproved, EventRenewed:
			got = append(got, r.Event+" "+r.Subject+" "+r.Actor+" "+string(r.Details))
		}
	}
	c, n := certSubject(SerialOf(cert)), certSubject(SerialOf(next))
	want := []string{
		EventRenewalRequested + " " + c + ` client:192.0.2.7 {"details_confirmed":"true","holder":"1","request":"1"}`,
		EventRenewalApproved + " " + c + ` officer:alice {"holder":"1","request":"1"}`,
		EventRenewed + " " + n + " client:192.0.2.7",
	}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || !strings.HasPrefix(got[2], want[2]) ||
		!strings.Contains(got[2], `"request":"1"`) || !strings.Contains(got[2], `"details_confirmed":"true"`) {
		t.Fatalf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A refusal ends it, with the officer's reason, whatever the policy
// later; an approval not yet used may be withdrawn by a refusal.
func TestRenewalRefused(t *testing.T) {
	a, s, cert := approvalCA(t)
	ctx := context.Background()
	id := pendingOf(t, requestErr(a, cert, "")).ID
	for _, reason := range []string{"", "   ", strings.Repeat("é", protocol.MaxReasonLength+1), "two\nlines"} {
		var in *InputError
		if _, err := s.Refuse(ctx, id, reason); !errors.As(err, &in) || in.Field != "reason" {
			t.Errorf("refuse for %q: %v", reason, err)
		}
	}
	if _, err := s.Approve(ctx, id); err != nil {
		t.Fatal(err)
	}
	const reason = "Radiée du tableau de l'Ordre le 1er mars"
	if p, err := s.Refuse(ctx, id, " "+reason+" "); err != nil || p.State != protocol.RenewalRefused || p.Reason != reason {
		t.Fatalf("refuse: %+v, %v", p, err)
	}
	if _, err := s.Refuse(ctx, id, "again"); !errors.Is(err, ErrRequestDecided) {
		t.Fatalf("refuse twice: %v", err)
	}
	if _, err := s.Approve(ctx, id); !errors.Is(err, ErrRequestDecided) {
		t.Fatalf("approve a refused request: %v", err)
	}
	if _, err := s.Approve(ctx, id+1); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("approve an unknown request: %v", err)
	}
	refused := func(err error) {
		t.Helper()
		var e *APIError
		if !errors.As(err, &e) || e.Code != protocol.CodeRenewalRefused || e.Reason != reason {
			t.Fatalf("want the refusal with its reason, got %v", err)
		}
	}
	_, err := a.Reenroll(ctx, cert, csrFor(t, p256(t)), "")
	refused(err)
	refused(requestErr(a, cert, ""))
	if d, err := a.RenewalDetails(ctx, cert); err != nil || d.Request == nil || d.Request.State != protocol.RenewalRefused || d.Request.Reason != reason {
		t.Fatalf("details of a refused renewal: %+v, %v", d, err)
	}
	if changed, err := a.SetRenewalApproval(ctx, false); err != nil || !changed {
		t.Fatalf("policy off: %v, %v", changed, err)
	}
	_, err = a.Reenroll(ctx, cert, csrFor(t, p256(t)), "")
	refused(err)
}

// With the policy off, no request is made; a request awaiting when it
// was turned off is done by the renewal. The policy's changes are in the
// trail.
func TestRenewalApprovalPolicy(t *testing.T) {
	a, _, cert := approvalCA(t)
	ctx := context.Background()
	id := pendingOf(t, requestErr(a, cert, "")).ID
	if changed, err := a.SetRenewalApproval(ctx, true); err != nil || changed {
		t.Fatalf("policy on again: %v, %v", changed, err)
	}
	if _, err := a.SetRenewalApproval(ctx, false); err != nil {
		t.Fatal(err)
	}
	if on, err := a.RenewalApproval(ctx); err != nil || on {
		t.Fatalf("policy: %v, %v", on, err)
	}
	if r, err := a.RequestRenewal(ctx, cert, ""); err != nil || r.State != protocol.RenewalNotNeeded {
		t.Fatalf("request with no approval needed: %+v, %v", r, err)
	}
	next, err := a.Reenroll(ctx, cert, csrFor(t, p256(t)), "")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, a, `SELECT count(*) FROM renewal_requests WHERE id = ? AND state = ? AND successor = ?`, id, protocol.RenewalDone, SerialOf(next)); n != 1 {
		t.Fatal("the request awaiting is not done by the renewal")
	}
	// And nothing to approve for next: no request.
	if _, err := a.Reenroll(ctx, next, csrFor(t, p256(t)), ""); err != nil {
		t.Fatal(err)
	}
	if n := count(t, a, `SELECT count(*) FROM renewal_requests`); n != 1 {
		t.Fatalf("%d requests", n)
	}
	var changes []string
	for _, r := range auditLog(t, a) {
		if r.Event == EventPolicyChanged {
			changes = append(changes, string(r.Details))
		}
	}
	if strings.Join(changes, " ") != `{"renewal_approval":"true"} {"renewal_approval":"false"}` {
		t.Fatalf("policy changes in the trail: %v", changes)
	}
}

// Details confirmed that the CA's record no longer gives are refused;
// a revoked certificate's request cannot be approved, nor listed.
func TestRenewalDetailsChanged(t *testing.T) {
	a, s, cert := approvalCA(t)
	ctx := context.Background()
	d, err := a.RenewalDetails(ctx, cert)
	if err != nil {
		t.Fatal(err)
	}
	a.db.Exec(`UPDATE holders SET title = 'Ingegnere iunior'`)
	if err := requestErr(a, cert, d.Digest); apiCode(err) != protocol.CodeDetailsChanged {
		t.Fatalf("request after the details changed: %v", err)
	}
	if _, err := a.ReenrollWith(ctx, cert, csrFor(t, p256(t)), ReenrollOptions{Confirmed: d.Digest}); apiCode(err) != protocol.CodeDetailsChanged {
		t.Fatalf("renewal after the details changed: %v", err)
	}
	d2, _ := a.RenewalDetails(ctx, cert)
	if d2.Title != "Ingegnere iunior" || d2.Digest == d.Digest {
		t.Fatalf("details after the change: %+v", d2)
	}
	id := pendingOf(t, requestErr(a, cert, d2.Digest)).ID
	if err := a.Revoke(ctx, SerialOf(cert), ""); err != nil {
		t.Fatal(err)
	}
	if ps, _ := a.PendingRenewals(ctx); len(ps) != 0 {
		t.Fatalf("a revoked certificate's request is listed: %+v", ps)
	}
	if _, err := s.Approve(ctx, id); !errors.Is(err, ErrRequestStale) {
		t.Fatalf("approve a revoked certificate's request: %v", err)
	}
}

// Two officers approve one request at once, through two servers: one
// decision is made; many renewals asked at once make one request.
func TestRenewalDecisionsInParallel(t *testing.T) {
	a, alice, cert := approvalCA(t)
	rs := replicas(t, a)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]int64, 10)
	for i := range ids {
		wg.Go(func() {
			_, err := rs[i%2].Reenroll(ctx, cert, csrFor(t, p256(t)), "")
			var pe *RenewalPendingError
			if errors.As(err, &pe) {
				ids[i] = pe.Request.ID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("requests made at once: %v", ids)
		}
	}
	k := addOfficer(t, a, "bob")
	bob, err := rs[1].LoginOfficer(ctx, "bob", []byte(officerPassword), officerCode(t, k, 0))
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2)
	wg.Go(func() { _, errs[0] = alice.Approve(ctx, ids[0]) })
	wg.Go(func() { _, errs[1] = bob.Approve(ctx, ids[0]) })
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrRequestDecided) {
		t.Fatalf("two approvals at once: %v", errs)
	}
	if n := count(t, a, `SELECT count(*) FROM audit WHERE event IN (?, ?)`, EventRenewalApproved, EventRenewalRefused); n != 1 {
		t.Fatalf("%d decisions recorded", n)
	}
}
