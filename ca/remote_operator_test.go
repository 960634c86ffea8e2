package ca_test

import (
	"context"
	"sync"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/protocol"
)

// Wrong emergency codes tried at once, from two servers on one database,
// are all counted: no more than the policy's three are ever checked, and
// then the right code is refused too. Before that, the right one unlocks
// the account and sets a password that only changes the password.
func TestRemoteEmergencyTriesInParallel(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{})
	h := enrolActive(t, a, clock)
	ctx := context.Background()
	password, err := a.UnlockRemoteAccount(ctx, h.UserID, h.EmergencyCode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RemoteLogin(ctx, h.UserID, password, false); codeOf(err) != protocol.RemotePasswordChange {
		t.Fatalf("the operator's password signs in: %v", err)
	}
	if _, err := a.RemoteLogin(ctx, h.UserID, h.password, false); codeOf(err) != protocol.CSCAccessDenied {
		t.Fatalf("the password before the unlock: %v", err)
	}
	if err := a.ChangeRemotePassword(ctx, h.UserID, password, "Ancora#Nuova1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RemoteLogin(ctx, h.UserID, "Ancora#Nuova1", false); err != nil {
		t.Fatalf("the holder's own password after the unlock: %v", err)
	}

	other, err := ca.Open(a.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var wg sync.WaitGroup
	results := make(chan error, 12)
	for i := range 12 {
		srv := a
		if i%2 == 1 {
			srv = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := srv.UnlockRemoteAccount(ctx, h.UserID, "0000-0000-0000")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	checked := 0
	for err := range results {
		switch c := codeOf(err); c {
		case ca.RemoteEmergencyWrong:
			checked++
		case ca.RemoteEmergencyLocked:
			if left(err) == 0 { // the try that blocked it, not one refused as blocked
				checked++
			}
		case protocol.CSCInvalidRequest: // busy: other checks under way
		default:
			t.Errorf("a wrong emergency code: %v", err)
		}
	}
	if checked > 3 {
		t.Errorf("%d wrong emergency codes checked; the policy allows 3", checked)
	}
	for range 3 {
		a.UnlockRemoteAccount(ctx, h.UserID, "0000-0000-0000")
	}
	if _, err := a.UnlockRemoteAccount(ctx, h.UserID, h.EmergencyCode); codeOf(err) != ca.RemoteEmergencyLocked {
		t.Fatalf("the right emergency code once blocked: %v", err)
	}
}
