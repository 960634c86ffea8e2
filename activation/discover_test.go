package activation

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/netclient"
)

func TestDiscoverCA(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	ctx := context.Background()
	root := ca.Fingerprint(srv.Root)

	info, err := DiscoverCA(ctx, srv.URL, "none", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Anchors) != 1 || info.Anchors[0] != root || !info.Roots[0].Equal(srv.Root) {
		t.Fatalf("anchors %v, want the CA's root %s", info.Anchors, root)
	}
	if info.Service == nil || !strings.HasPrefix(info.Service.EST, srv.URL) {
		t.Fatalf("service document %+v", info.Service)
	}
	// The fingerprint the operator published, in any of its spellings.
	if _, err := DiscoverCA(ctx, srv.URL, "none", "SHA256:"+strings.ToUpper(root)); err != nil {
		t.Fatalf("with the right fingerprint: %v", err)
	}
	if _, err := DiscoverCA(ctx, srv.URL, "none", strings.Repeat("ab", 32)); !errors.Is(err, ErrWrongCA) {
		t.Fatalf("with another fingerprint: got %v, want ErrWrongCA", err)
	}
	var fe *config.FieldError
	if _, err := DiscoverCA(ctx, "http://"+strings.TrimPrefix(srv.URL, "https://"), "none", ""); !errors.As(err, &fe) || fe.Field != "ca.url" {
		t.Fatalf("plain http URL: got %v", err)
	}
}

// A server in between that relays the CA's answers under a certificate of
// its own (a TLS-inspecting proxy, or an impostor) is caught: its chain
// does not end at the root the CA certificates name.
func TestDiscoverCAInterceptor(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	upstream, err := New(mustPolicy(t, srv.Policy), netclient.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var self string
	relay := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := upstream.http.Get(srv.URL + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.Write([]byte(strings.ReplaceAll(string(body), srv.URL, self)))
	}))
	defer relay.Close()
	self = relay.URL
	_, err = DiscoverCA(context.Background(), relay.URL, "none", "")
	var ae *netclient.AnchorError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an AnchorError", err)
	}
}

func mustPolicy(t *testing.T, path string) *config.Policy {
	t.Helper()
	p, err := config.ReadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
