package ca

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/paraphe/paraphe/protocol"
)

// Coupon codes pay for renewals when the CA's policy says so
// (Config.RenewalNeedsCoupon). They look like reference codes, are shown
// once at creation and kept only as SHA-256 hashes; each pays for one
// renewal.

func hashCoupon(code string) string {
	if c, err := protocol.ParseRefCode(code); err == nil {
		code = c
	}
	sum := sha256.Sum256([]byte("paraphe coupon " + code))
	return hex.EncodeToString(sum[:])
}

// CreateCoupons makes n new coupon codes.
func (a *Authority) CreateCoupons(ctx context.Context, n int) ([]string, error) {
	if n < 1 || n > 10000 {
		return nil, &InputError{"count", "must be 1 to 10000"}
	}
	codes := make([]string, n)
	err := a.db.tx(ctx, func(tx *dbTx) error {
		for i := range codes {
			codes[i] = protocol.NewRefCode()
			if _, err := tx.Exec(`INSERT INTO coupons(hash, created) VALUES (?, ?)`, hashCoupon(codes[i]), time.Now().Unix()); err != nil {
				return fmt.Errorf("ca: database: %w", err)
			}
		}
		return tx.audit(EventCouponsCreated, "coupons", map[string]string{"count": strconv.Itoa(n)})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}
