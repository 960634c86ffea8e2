package pdf

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/digitorus/timestamp"
)

// The signer checks a time-stamping authority's reply before it embeds
// it: granted, for this imprint and nonce, signed by the unit whose
// certificate it carries. A TSA in between that changes any of it (here a
// proxy in front of the real CA's) is refused, and signing fails.
func TestTimestampReplyChecked(t *testing.T) {
	srv, _, _, hc := caPKI(t)
	real := srv.URL + "/tsa"
	forward := func(w http.ResponseWriter, req []byte) []byte {
		resp, err := hc.Post(real, "application/timestamp-query", bytes.NewReader(req))
		if err != nil {
			t.Error(err)
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	for _, c := range []struct {
		name  string
		reply func(w http.ResponseWriter, req []byte) []byte
	}{
		{"the real one", forward},
		{"refused", func(http.ResponseWriter, []byte) []byte { return []byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02} }},
		{"garbage", func(http.ResponseWriter, []byte) []byte { return []byte("hello") }},
		{"another imprint", func(w http.ResponseWriter, req []byte) []byte {
			r, _ := timestamp.ParseRequest(req)
			r.HashedMessage = bytes.Repeat([]byte{7}, 32)
			b, _ := r.Marshal()
			return forward(w, b)
		}},
		{"another nonce", func(w http.ResponseWriter, req []byte) []byte {
			r, _ := timestamp.ParseRequest(req)
			r.Nonce = new(big.Int).Add(r.Nonce, big.NewInt(1))
			b, _ := r.Marshal()
			return forward(w, b)
		}},
		{"a broken signature", func(w http.ResponseWriter, req []byte) []byte {
			b := forward(w, req)
			b[len(b)-1] ^= 1 // the unit's signature value ends the token
			return b
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req, _ := io.ReadAll(r.Body)
				b := c.reply(w, req)
				w.Header().Set("Content-Type", "application/timestamp-reply")
				w.Write(b)
			}))
			defer proxy.Close()
			tsa := &tsaClient{url: proxy.URL, http: http.DefaultClient}
			token, _, err := tsa.stamp(context.Background(), []byte("signature value"))
			switch {
			case c.name == "the real one" && err != nil:
				t.Fatalf("the real TSA's reply: %v", err)
			case c.name == "the real one":
				if len(token) == 0 {
					t.Fatal("no token")
				}
			case !errors.Is(err, ErrTimestamp):
				t.Fatalf("accepted: %v", err)
			default:
				t.Log(err)
			}
		})
	}
}
