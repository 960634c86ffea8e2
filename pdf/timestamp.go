package pdf

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// ErrTimestamp wraps every failure to obtain a time-stamp: a signature that
// asked for one is never written without it.
var ErrTimestamp = errors.New("pdf: no time-stamp")

// tsaClient asks an RFC 3161 time-stamping authority.
type tsaClient struct {
	url  string
	http *http.Client
}

// stamp returns a time-stamp token over SHA-256(data), after checking that
// it answers this request (same imprint, same nonce).
func (c *tsaClient) stamp(ctx context.Context, data []byte) ([]byte, time.Time, error) {
	sum := sha256.Sum256(data)
	return c.stampDigest(ctx, sum[:])
}

// stampDigest is stamp for data whose SHA-256 is digest.
func (c *tsaClient) stampDigest(ctx context.Context, digest []byte) ([]byte, time.Time, error) {
	nonce, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(req))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %s unreachable: %w", ErrTimestamp, c.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK || ct != "application/timestamp-reply" {
		return nil, time.Time{}, fmt.Errorf("%w: %s answered %s (%s)", ErrTimestamp, c.url, resp.Status, ct)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest) || ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, time.Time{}, fmt.Errorf("%w: the reply is not for this request (imprint or nonce differ)", ErrTimestamp)
	}
	return ts.RawToken, ts.Time, nil
}
