package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Two replicas share the database and the documents folder (on
// PostgreSQL as they would in the field; on SQLite, two processes on one
// file): what one takes in, the other serves, and the expired parcel is
// destroyed once however many sweep it.
func TestReplicasShareTheStore(t *testing.T) {
	f := newFixture(t, InitOptions{})
	ctx := context.Background()
	pro := f.user(t, NewUser{Kind: Firm, Email: "anne@firm.example", Name: "Anne Martin"}, testPassword)
	client := f.user(t, NewUser{Kind: Client, Email: "paul@client.example", Name: "Paul Durand", Manager: pro.Code}, testPassword)
	a, b := f.x, f.open(t)
	srvA, srvB := httptest.NewServer(a.Handler()), httptest.NewServer(b.Handler())
	defer srvA.Close()
	defer srvB.Close()

	doc := make([]byte, 300<<10)
	rand.Read(doc)
	d, err := a.NewDraft(ctx, pro, Sending{Recipient: client.Code, Title: "Rapport", Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(ctx, "rapport.bin", bytes.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	p, _, err := d.Send(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	f.box.Next(t) // the notification

	// The client signs in on replica B (the session made there is good on
	// A too) and downloads from B what A took in.
	tok := apiSignIn(t, srvB.URL, client.Email)
	if got, status := apiGet(t, srvB.URL+"/api/v1/parcels/"+p.ID+"/documents/"+p.Documents[0].ID, tok); status != http.StatusOK || !bytes.Equal(got, doc) {
		t.Fatalf("replica B served %d bytes, status %d", len(got), status)
	}
	if _, status := apiGet(t, srvA.URL+"/api/v1/parcels/"+p.ID, tok); status != http.StatusOK {
		t.Fatalf("replica A refused B's session: %d", status)
	}

	// Both sweep once it expired: one destroys it, the other finds nothing.
	f.clock.Add(4 * 24 * 3600e9)
	var wg sync.WaitGroup
	for _, x := range []*Exchange{a, b} {
		wg.Go(func() {
			if _, err := x.Sweep(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := b.Parcel(ctx, pro, p.ID, "test")
	if err != nil || got.Status != StatusExpired {
		t.Fatalf("after the sweeps: %+v, %v", got, err)
	}
	_, events, err := a.Slip(ctx, pro, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == "expired" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d expiries recorded: %+v", n, events)
	}
	tok = apiSignIn(t, srvA.URL, client.Email) // days later: a new session
	if _, status := apiGet(t, srvA.URL+"/api/v1/parcels/"+p.ID+"/documents/"+p.Documents[0].ID, tok); status != http.StatusGone {
		t.Fatalf("an expired document: status %d", status)
	}
}

func apiSignIn(t *testing.T, base, login string) string {
	t.Helper()
	body, _ := json.Marshal(TokenRequest{Login: login, Password: testPassword})
	res, err := http.Post(base+"/api/v1/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tr TokenResponse
	if err := json.NewDecoder(res.Body).Decode(&tr); err != nil || tr.Token == "" {
		t.Fatalf("sign-in: %d, %v", res.StatusCode, err)
	}
	return tr.Token
}

func apiGet(t *testing.T, url, tok string) ([]byte, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Fatal(err)
	}
	return b, res.StatusCode
}
