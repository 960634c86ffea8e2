package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/pquerna/otp/totp"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// startRenewal taps Renew on the card of the only certificate due for
// renewal, as 20 days before key expires, and types the PIN: the CA's
// answer is then shown, the question about the details or why not.
func startRenewal(t *testing.T, u *UI, key *pkcs.Key) {
	t.Helper()
	u.opt.Now = func() time.Time { return key.Chain[0].NotAfter.Add(-20 * 24 * time.Hour) }
	u.home.refresh()
	test.Tap(findButton(t, u.home.content, u.T("app.home.renew")))
	test.Type(u.pinEntry, testPIN)
	u.pinDialog.Submit()
	u.tasks.Wait()
}

// wantDetails checks that the question about the details is open and
// shows what the test holder's certificate carries.
func wantDetails(t *testing.T, u *UI) *confirmBox {
	t.Helper()
	q := u.home.confirmDetails
	if q == nil {
		t.Fatalf("no question about the details (shown %q)", u.shown)
	}
	got := texts(u.win.Canvas().Overlays().Top())
	h := testenv.Holder()
	for _, want := range []string{u.T("app.renew.confirm_title"), "Name", h.Name, "Title", h.Title, "Member number", h.MemberNumber,
		"Order", h.Organization, h.Email, u.T("app.renew.still_true"), u.T("app.renew.not_true")} {
		if !strings.Contains(got, want) {
			t.Fatalf("the question about the details lacks %q:\n%s", want, got)
		}
	}
	return q
}

// From 30 days before expiry the certificate's card warns and offers to
// renew; renewing shows the details the new certificate will carry, and
// once they are confirmed gives a new certificate that becomes the
// default.
func TestRenewFromHome(t *testing.T) {
	c := testenv.StartCA(t, ca.InitOptions{})
	u := newUI(t, c.Policy)
	w := activate(t, u, c.Enroll(t), testenv.Answers)
	w.close()
	old := w.key
	u.opt.Now = func() time.Time { return old.Chain[0].NotAfter.Add(-20 * 24 * time.Hour) }
	u.home.refresh()
	if got := texts(u.home.content); !strings.Contains(got, "Expires in 20 days") {
		t.Fatalf("no warning 20 days before expiry:\n%s", got)
	}
	startRenewal(t, u, old)
	q := wantDetails(t, u)
	if strings.Contains(texts(u.win.Canvas().Overlays().Top()), u.T("app.renew.intro_approval")) {
		t.Fatal("an approval is announced where none is needed")
	}
	q.Confirm()
	u.tasks.Wait()
	if u.settings.DefaultCert == old.ID || u.settings.DefaultCert == "" {
		t.Fatalf("the renewed certificate is not the default: %q (shown %q)", u.settings.DefaultCert, u.shown)
	}
	if got := texts(u.home.content); strings.Count(got, "Marie Dupont") != 2 {
		t.Fatalf("home after renewal:\n%s", got)
	}
	// The two certificates, alike but for their keys, are told apart in
	// the drop-downs (a Select finds its choice by its text).
	for _, sel := range []*widget.Select{u.prefs.cert, u.signer.cert} {
		if o := sel.Options; len(o) != 2 || o[0] == o[1] {
			t.Fatalf("the certificates in a drop-down: %q", o)
		}
	}
}

// officer logs a registration officer of c in, as their workstation
// would.
func officer(t *testing.T, c *testenv.CA, name string) *ca.OfficerSession {
	t.Helper()
	ctx := context.Background()
	k, err := c.AddOfficer(ctx, name, []byte("officer's password"))
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(k.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.LoginOfficer(ctx, name, []byte("officer's password"), code)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// approvalUI is the app with a certificate of a CA whose renewals need an
// officer's approval.
func approvalUI(t *testing.T) (*testenv.CA, *UI, *pkcs.Key) {
	t.Helper()
	c := testenv.StartCA(t, ca.InitOptions{RenewalApproval: true})
	u := newUI(t, c.Policy)
	w := activate(t, u, c.Enroll(t), testenv.Answers)
	w.close()
	return c, u, w.key
}

// Under a CA whose renewals need an officer's approval: details said
// untrue stop the renewal and send the holder to the CA, asking nothing
// of it; confirmed, the request waits, and the same button renews once
// it is approved.
func TestRenewAwaitsApproval(t *testing.T) {
	c, u, key := approvalUI(t)
	ctx := context.Background()

	startRenewal(t, u, key)
	wantDetails(t, u).Dismiss()
	u.tasks.Wait()
	if !strings.Contains(u.shown, "you did not confirm") {
		t.Fatalf("details said untrue: shown %q", u.shown)
	}
	if got := texts(u.win.Canvas().Overlays().Top()); !strings.Contains(got, "contact your certification authority") {
		t.Fatalf("the holder is not sent to the CA:\n%s", got)
	}
	if ps, _ := c.PendingRenewals(ctx); len(ps) != 0 {
		t.Fatalf("a request was made without the details confirmed: %+v", ps)
	}

	startRenewal(t, u, key)
	q := wantDetails(t, u)
	if !strings.Contains(texts(u.win.Canvas().Overlays().Top()), u.T("app.renew.intro_approval")) {
		t.Fatal("the approval the renewal needs is not announced")
	}
	q.Confirm()
	u.tasks.Wait()
	ps, err := c.PendingRenewals(ctx)
	if err != nil || len(ps) != 1 || !ps[0].Confirmed || !strings.Contains(u.shown, "renewal request no. 1") || !strings.Contains(u.shown, "awaits the approval") {
		t.Fatalf("awaiting approval: shown %q, pending %+v", u.shown, ps)
	}
	if len(u.certs) != 1 {
		t.Fatalf("%d certificates while the renewal waits", len(u.certs))
	}

	if _, err := officer(t, c, "alice").Approve(ctx, ps[0].ID); err != nil {
		t.Fatal(err)
	}
	startRenewal(t, u, key)
	q = wantDetails(t, u)
	if strings.Contains(texts(u.win.Canvas().Overlays().Top()), u.T("app.renew.intro_approval")) {
		t.Fatal("an approval already given is announced as to come")
	}
	q.Confirm()
	u.tasks.Wait()
	if len(u.certs) != 2 || u.settings.DefaultCert == key.ID {
		t.Fatalf("once approved: %d certificates, shown %q", len(u.certs), u.shown)
	}
}

// A refusal is said with the officer's reason, before any question.
func TestRenewRefused(t *testing.T) {
	c, u, key := approvalUI(t)
	ctx := context.Background()
	startRenewal(t, u, key)
	wantDetails(t, u).Confirm()
	u.tasks.Wait()
	ps, _ := c.PendingRenewals(ctx)
	if len(ps) != 1 {
		t.Fatalf("pending %+v (shown %q)", ps, u.shown)
	}
	const reason = "Radiée du tableau de l'Ordre le 1er mars"
	if _, err := officer(t, c, "bob").Refuse(ctx, ps[0].ID, reason); err != nil {
		t.Fatal(err)
	}
	startRenewal(t, u, key)
	if u.home.confirmDetails != nil || !strings.Contains(u.shown, "refused the renewal") || !strings.Contains(u.shown, reason) {
		t.Fatalf("a refused renewal: question %v, shown %q", u.home.confirmDetails != nil, u.shown)
	}
	if got := texts(u.win.Canvas().Overlays().Top()); !strings.Contains(got, "contact your certification authority") {
		t.Fatalf("the holder is not sent to the CA:\n%s", got)
	}
}
