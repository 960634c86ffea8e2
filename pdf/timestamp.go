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
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/paraphe/paraphe/cms"
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
	token, err := replyToken(body)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	ts, err := cms.ParseTimestamp(token)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", ErrTimestamp, err)
	}
	if ts.Hash != cms.SHA256 || !bytes.Equal(ts.Imprint, digest) || ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, time.Time{}, fmt.Errorf("%w: the reply is not for this request (imprint or nonce differ)", ErrTimestamp)
	}
	// The unit's certificate was asked for (RFC 3161 says it must then be
	// there): its signature over the token must hold.
	if tsa := ts.Signer(); tsa != nil {
		if err := ts.Verify(tsa); err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: the token's signature: %v", ErrTimestamp, err)
		}
	}
	return token, ts.Time, nil
}

// replyToken returns the token of a TimeStampResp (RFC 3161 §2.4.2) that
// grants it: SEQUENCE { status PKIStatusInfo, timeStampToken }. It is read
// here, with the reader verification uses, rather than by
// github.com/digitorus/timestamp, whose BER reader keeps a global counter
// that parallel signing would race on.
func replyToken(body []byte) ([]byte, error) {
	in := cryptobyte.String(body)
	var resp, status cryptobyte.String
	var code int64
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1(&status, cbasn1.SEQUENCE) || !status.ReadASN1Integer(&code) {
		return nil, errors.New("not a time-stamp reply")
	}
	if code != 0 && code != 1 { // granted, grantedWithMods
		return nil, fmt.Errorf("the authority refused the request (status %d)", code)
	}
	var token cryptobyte.String
	if !resp.ReadASN1Element(&token, cbasn1.SEQUENCE) {
		return nil, errors.New("the reply holds no token")
	}
	return token, nil
}
