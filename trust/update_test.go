package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/trust/tltest"
)

// Update goes through the caller's client, proxy included: squid asks for
// credentials, and only the client that has them gets the lists.
func TestUpdateThroughProxy(t *testing.T) {
	sq := testenv.StartSquid(t, testenv.SquidOptions{BasicAuth: "alice:s3cret"})
	eu := tltest.NewEU(t, frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "CA")}}))
	client := func(user *url.Userinfo) *http.Client {
		u, err := url.Parse(sq.URL)
		if err != nil {
			t.Fatal(err)
		}
		u.User = user
		return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u)}}
	}

	tl := newTrustedLists(t, eu)
	tl.Client = client(nil)
	st := update(t, tl)
	var fe *FetchError
	if !errors.As(st["EU"].Err, &fe) || fe.Status != http.StatusProxyAuthRequired {
		t.Fatalf("without credentials: %v", st["EU"].Err)
	}

	tl.Client = client(url.UserPassword("alice", "s3cret"))
	st = update(t, tl)
	if st["EU"].Err != nil || st["FR"].Err != nil {
		t.Fatalf("through the proxy: %+v", st)
	}
}

func TestUpdateCanceled(t *testing.T) {
	eu := tltest.NewEU(t, frList())
	tl := newTrustedLists(t, eu)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	statuses, err := tl.Update(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(statuses[0].Err, context.Canceled) {
		t.Fatalf("%v", statuses[0].Err)
	}
}

// Two updates at once on one cache (the background refresh and
// "paraphe trust update"): both succeed, the cache stays whole, and
// neither makes the other see a rollback.
func TestConcurrentUpdates(t *testing.T) {
	ca := newCA(t, "CA")
	eu := tltest.NewEU(t,
		frList(tltest.Service{Type: tltest.CAQC, Name: "Test CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{ca}}),
		&tltest.List{Territory: "IT", Sequence: 4}, &tltest.List{Territory: "DE", Sequence: 9})
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl := &TrustedLists{URL: eu.LOTLURL(), Pins: eu.Pins(), Cache: cache, Client: eu.Client()}
			statuses, err := tl.Update(context.Background())
			if err != nil {
				errs <- err
				return
			}
			for _, s := range statuses {
				if s.Err != nil {
					errs <- s.Err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	tl := &TrustedLists{URL: eu.LOTLURL(), Pins: eu.Pins(), Cache: cache}
	anchors, statuses := tl.Anchors()
	if len(anchors) != 1 || len(statuses) != 4 {
		t.Fatalf("%d anchors, %d statuses", len(anchors), len(statuses))
	}
	for _, s := range statuses {
		if s.Err != nil {
			t.Errorf("%s: %v", s.Territory, s.Err)
		}
	}
}
