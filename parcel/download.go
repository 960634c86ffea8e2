package parcel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// Download writes document d of parcel parcelID to w, as the sender sent
// it (still encrypted when it is end to end), and checks its size and
// SHA-256 against what the exchange listed: ErrCorrupt when they differ,
// and then what was written must be thrown away.
func (c *Client) Download(ctx context.Context, parcelID string, d Document, w io.Writer) error {
	resp, err := c.request(ctx, http.MethodGet, "/api/v1/parcels/"+pathEscape(parcelID)+"/documents/"+pathEscape(d.ID), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return decode(resp, nil)
	}
	h := sha256.New()
	out := &writer{w: w}
	n, err := io.Copy(io.MultiWriter(out, h), resp.Body)
	switch {
	case out.err != nil:
		return out.err // where it goes, not the exchange
	case err != nil:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if n != d.Size || hex.EncodeToString(h.Sum(nil)) != d.SHA256 {
		return fmt.Errorf("%w: %s: %d bytes", ErrCorrupt, d.Name, n)
	}
	return nil
}

// writer keeps its writer's error, to tell it from the network's.
type writer struct {
	w   io.Writer
	err error
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}
