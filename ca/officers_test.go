package ca

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

const officerPassword = "correct horse battery"

// addOfficer makes an officer's account and returns its TOTP key.
func addOfficer(t *testing.T, a *Authority, name string) *OfficerKey {
	t.Helper()
	k, err := a.AddOfficer(context.Background(), name, []byte(officerPassword))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// officerCode is k's one-time code steps time steps from now (an
// authenticator app's code, as the officer would type it).
func officerCode(t *testing.T, k *OfficerKey, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(k.Secret, time.Now().Add(time.Duration(steps*totpPeriod)*time.Second), totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is six digits that are not k's code at any step the server
// may accept now, nor a minute either way.
func wrongCode(t *testing.T, k *OfficerKey) string {
	t.Helper()
	taken := map[string]bool{}
	for d := -3; d <= 3; d++ {
		taken[officerCode(t, k, d)] = true
	}
	for n := 0; ; n++ {
		if c := fmt.Sprintf("%06d", n); !taken[c] {
			return c
		}
	}
}

// The second factor is an authenticator app's: an otpauth URI naming the
// CA and the officer, and a key the database holds only sealed.
func TestAddOfficer(t *testing.T) {
	a := newCA(t, InitOptions{Name: "Ordine Test"})
	k := addOfficer(t, a, "alice")
	u, err := url.Parse(k.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Ordine Test:alice" || u.Query().Get("secret") != k.Secret {
		t.Fatalf("otpauth URI %q", k.URI)
	}
	var stored string
	a.db.QueryRow(`SELECT totp FROM officers WHERE name = 'alice'`).Scan(&stored)
	if stored == "" || strings.Contains(stored, k.Secret) {
		t.Fatalf("the TOTP key is stored as %q", stored)
	}
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"alice", officerPassword, ErrOfficerExists},
		{"Bob", officerPassword, ErrOfficerName},
		{"bob smith", officerPassword, ErrOfficerName},
		{"", officerPassword, ErrOfficerName},
		{"bob", "short", ErrOfficerPassword},
		{"bob", strings.Repeat("x", maxOfficerPassword+1), ErrOfficerPassword},
	} {
		if _, err := a.AddOfficer(context.Background(), tc.name, []byte(tc.password)); !errors.Is(err, tc.want) {
			t.Errorf("AddOfficer(%q, %d characters): %v, want %v", tc.name, len(tc.password), err, tc.want)
		}
	}
	// Another CA's officers.key opens nothing here.
	if err := os.WriteFile(filepath.Join(a.Dir, fileOfficerKey), []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LoginOfficer(context.Background(), "alice", []byte(officerPassword), officerCode(t, k, 0)); !errors.Is(err, ErrOfficerKey) {
		t.Fatalf("login under another officers.key: %v", err)
	}
	if n := officerFailures(t, a, "alice"); n != 0 {
		t.Fatalf("a login that could not be checked counted as failed: %d", n)
	}
}

func officerFailures(t *testing.T, a *Authority, name string) int {
	t.Helper()
	return count(t, a, `SELECT failures FROM officers WHERE name = ?`, name)
}

// A wrong password or code is refused and counted; a code is good once;
// five failures lock the account, right credentials included, until the
// operator enables it again.
func TestOfficerLogin(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := WithActor(context.Background(), "client:192.0.2.9")
	k := addOfficer(t, a, "alice")
	first := officerCode(t, k, 0)
	s, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), first)
	if err != nil || s.Officer != "alice" {
		t.Fatalf("login: %v", err)
	}
	denied := func(password, code string, left int) {
		t.Helper()
		_, err := a.LoginOfficer(ctx, "alice", []byte(password), code)
		var de *OfficerDeniedError
		if !errors.As(err, &de) || !errors.Is(err, ErrOfficerDenied) || de.AttemptsLeft != left {
			t.Fatalf("login (%q, %q): %v, want denied with %d left", password, code, err, left)
		}
	}
	denied(officerPassword, first, 4)                    // the same code again
	denied(officerPassword+"!", officerCode(t, k, 1), 3) // wrong password
	denied(officerPassword, wrongCode(t, k), 2)          // wrong code
	denied(officerPassword, officerCode(t, k, 3), 1)     // beyond the skew
	denied("", "", 0)
	if _, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 1)); !errors.Is(err, ErrOfficerLocked) {
		t.Fatalf("login of a locked account: %v", err)
	}
	if os, _ := a.Officers(ctx); len(os) != 1 || !os[0].Locked || os[0].Failures != 5 || os[0].LastLogin == nil {
		t.Fatalf("officers: %+v", os)
	}
	if err := a.EnableOfficer(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 1)); err != nil {
		t.Fatalf("login once enabled: %v", err)
	}
	if _, err := a.LoginOfficer(ctx, "nobody", []byte(officerPassword), "123456"); !errors.Is(err, ErrOfficerDenied) {
		t.Fatalf("unknown officer: %v", err)
	}
	// Every attempt is in the trail, with what was wrong, never the
	// password, the code or an unknown name.
	var got []string
	for _, r := range auditLog(t, a) {
		if strings.HasPrefix(r.Event, "officer.login") {
			got = append(got, r.Event+" "+r.Subject+" "+r.Actor+" "+string(r.Details))
			if strings.Contains(string(r.Details), officerPassword) || strings.Contains(r.Subject, "nobody") {
				t.Errorf("a secret or an unknown name in the trail: %+v", r)
			}
		}
	}
	want := []string{
		`officer.login officer:alice client:192.0.2.9 {}`,
		`officer.login_failed officer:alice client:192.0.2.9 {"attempts_left":"4","code":"reused","outcome":"rejected","password":"right"}`,
		`officer.login_failed officer:alice client:192.0.2.9 {"attempts_left":"3","code":"right","outcome":"rejected","password":"wrong"}`,
		`officer.login_failed officer:alice client:192.0.2.9 {"attempts_left":"2","code":"wrong","outcome":"rejected","password":"right"}`,
		`officer.login_failed officer:alice client:192.0.2.9 {"attempts_left":"1","code":"wrong","outcome":"rejected","password":"right"}`,
		`officer.login_failed officer:alice client:192.0.2.9 {"attempts_left":"0","code":"wrong","outcome":"locked","password":"wrong"}`,
		`officer.login_failed officer:alice client:192.0.2.9 {"outcome":"locked"}`,
		`officer.login officer:alice client:192.0.2.9 {}`,
		`officer.login_failed officer client:192.0.2.9 {"outcome":"unknown_officer"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Twenty wrong logins at once through two servers of one database: five
// are checked (counted before they are), the others refused as locked
// without a check, and the right password and code are refused after.
func TestOfficerLoginsInParallel(t *testing.T) {
	a := newCA(t, InitOptions{})
	rs := replicas(t, a)
	k := addOfficer(t, a, "alice")
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	for i := range 20 {
		wg.Go(func() {
			_, err := rs[i%2].LoginOfficer(context.Background(), "alice", []byte("wrong password "+string(rune('a'+i))), officerCode(t, k, 0))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, ErrOfficerDenied):
				outcomes["denied"]++
			case errors.Is(err, ErrOfficerLocked):
				outcomes["locked"]++
			default:
				outcomes[err.Error()]++
			}
		})
	}
	wg.Wait()
	if outcomes["denied"] != maxOfficerFailures || outcomes["locked"] != 20-maxOfficerFailures {
		t.Fatalf("outcomes %v", outcomes)
	}
	checked := count(t, a, `SELECT count(*) FROM audit WHERE event = ? AND details LIKE '%attempts_left%'`, EventOfficerLoginFail)
	if checked != maxOfficerFailures {
		t.Fatalf("%d logins checked", checked)
	}
	if _, err := a.LoginOfficer(context.Background(), "alice", []byte(officerPassword), officerCode(t, k, 0)); !errors.Is(err, ErrOfficerLocked) {
		t.Fatalf("the right login after: %v", err)
	}
	if n := count(t, a, `SELECT checking FROM officers WHERE name = 'alice'`); n != 0 {
		t.Fatalf("%d logins still counted as under way", n)
	}
}

// A login under way counts as failed until it is decided; one a server
// never finished (it stopped) counts as failed, and stops counting as
// under way after officerCheckWindow.
func TestOfficerLoginUnderWay(t *testing.T) {
	a := newCA(t, InitOptions{})
	k := addOfficer(t, a, "alice")
	ctx := context.Background()
	for range maxOfficerFailures - 1 {
		if _, err := a.reserveLogin(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	// Four under way: one more may be tried, which, right, forgets the
	// failures before it but not those four.
	if _, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 0)); err != nil {
		t.Fatal(err)
	}
	if n := officerFailures(t, a, "alice"); n != maxOfficerFailures-1 {
		t.Fatalf("%d failures counted with four logins under way", n)
	}
	// The server that began them stopped: a minute later, they are
	// failures no longer under way, and the next right login forgets them.
	a.db.Exec(`UPDATE officers SET checking_at = ? WHERE name = 'alice'`, time.Now().Add(-2*officerCheckWindow).Unix())
	if _, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 1)); err != nil {
		t.Fatal(err)
	}
	if n := officerFailures(t, a, "alice"); n != 0 {
		t.Fatalf("%d failures after a right login", n)
	}
}

// A disabled officer cannot log in, and their open sessions end.
func TestDisableOfficer(t *testing.T) {
	a := newCA(t, InitOptions{})
	ctx := context.Background()
	k := addOfficer(t, a, "alice")
	s, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 0))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.NewToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.OfficerByToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OfficerByToken(ctx, tok.Token+"x"); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("a wrong token: %v", err)
	}
	if err := a.DisableOfficer(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := a.DisableOfficer(ctx, "alice"); !errors.Is(err, ErrOfficerDisabled) {
		t.Fatalf("disable twice: %v", err)
	}
	if err := a.DisableOfficer(ctx, "bob"); !errors.Is(err, ErrUnknownOfficer) {
		t.Fatalf("disable an unknown officer: %v", err)
	}
	if _, err := a.OfficerByToken(ctx, tok.Token); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("the session of a disabled officer: %v", err)
	}
	if _, err := a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 1)); !errors.Is(err, ErrOfficerDisabled) {
		t.Fatalf("login of a disabled officer: %v", err)
	}
	// Enabled again: a new session, good until it expires.
	if err := a.EnableOfficer(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if s, err = a.LoginOfficer(ctx, "alice", []byte(officerPassword), officerCode(t, k, 1)); err != nil {
		t.Fatal(err)
	}
	if tok, err = s.NewToken(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OfficerByToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	a.db.Exec(`UPDATE officer_sessions SET expires = ?`, time.Now().Add(-time.Second).Unix())
	if _, err := a.OfficerByToken(ctx, tok.Token); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("an expired session: %v", err)
	}
}
