package exchange

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B's SHA-1 vectors (8 digits there; authenticator apps
// show the last 6).
func TestTOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for at, want := range map[int64]string{
		59: "94287082", 1111111109: "07081804", 1111111111: "14050471",
		1234567890: "89005924", 2000000000: "69279037", 20000000000: "65353130",
	} {
		if got := hotp(key, uint64(at/totpPeriod)); got != want[2:] {
			t.Errorf("T=%d: %s, want %s", at, got, want[2:])
		}
	}
}

// oathtool (OATH Toolkit, which nobody here wrote) computes the same codes
// from the key as the profile page shows it.
func TestTOTPAgainstOathtool(t *testing.T) {
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not installed (apt-get install oathtool)")
	}
	key := []byte("a key of twenty byte")
	for _, at := range []time.Time{time.Unix(1_800_000_000, 0), time.Now()} {
		out, err := exec.Command("oathtool", "--totp", "--base32", strings.ReplaceAll(groupKey(key), " ", ""),
			"--now", at.UTC().Format("2006-01-02 15:04:05 UTC")).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := hotp(key, uint64(totpStep(at))), strings.TrimSpace(string(out)); got != want {
			t.Errorf("at %v: %s, oathtool %s", at, got, want)
		}
	}
}

// A code is taken once; a wrong one counts towards the lockout; the
// second factor is switched on only by a right code.
func TestTOTPSignIn(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	u := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul"}, testPassword)
	key, pending, err := f.x.NewTOTPKey(u)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := f.x.PendingTOTPKey(u, pending); err != nil || string(k) != string(key) {
		t.Fatalf("pending key: %v", err)
	}
	other := f.user(t, NewUser{Kind: Client, Email: "eve@else.example", Name: "Eve"}, testPassword)
	if _, err := f.x.PendingTOTPKey(other, pending); err == nil {
		t.Fatal("another user's pending key opened")
	}
	if err := f.x.EnableTOTP(ctx, u, key, "000000", "test"); !errors.Is(err, ErrTOTP) {
		t.Fatalf("enabled with a wrong code: %v", err)
	}
	if err := f.x.EnableTOTP(ctx, u, key, hotp(key, uint64(totpStep(f.clock.Now()))), "test"); err != nil {
		t.Fatal(err)
	}
	// The code that enabled it cannot sign in (taken), the next step's can, once.
	if _, err := f.x.CheckTOTP(ctx, u.ID, hotp(key, uint64(totpStep(f.clock.Now()))), "test"); !errors.Is(err, ErrTOTP) {
		t.Fatalf("the enrolment code again: %v", err)
	}
	f.clock.Add(totpPeriod * time.Second)
	code := hotp(key, uint64(totpStep(f.clock.Now())))
	if _, err := f.x.CheckTOTP(ctx, u.ID, code, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.x.CheckTOTP(ctx, u.ID, code, "test"); !errors.Is(err, ErrTOTP) {
		t.Fatalf("a code replayed: %v", err)
	}
	for range f.x.Config.LockoutAttempts {
		f.x.CheckTOTP(ctx, u.ID, "123456", "test")
	}
	var locked *LockedError
	f.clock.Add(totpPeriod * time.Second)
	if _, err := f.x.CheckTOTP(ctx, u.ID, hotp(key, uint64(totpStep(f.clock.Now()))), "test"); !errors.As(err, &locked) {
		t.Fatalf("after %d wrong codes: %v", f.x.Config.LockoutAttempts, err)
	}
}
