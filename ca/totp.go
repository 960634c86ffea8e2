package ca

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP (RFC 6238) as authenticator apps make it, for registration
// officers and remote signature holders alike: SHA-1, 6 digits, 30
// seconds; a code is accepted one step early or late, and, each account
// recording the last step it accepted, never twice.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// newTOTP makes a TOTP key for account of the CA issuer.
func newTOTP(issuer, account string) (*otp.Key, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("ca: TOTP key: %w", err)
	}
	return k, nil
}

// totpStep is the time step, within the skew of now, whose code under
// secret (base32) is code: the latest that matches, since a code is good
// once; 0 for none.
func totpStep(secret, code string, now time.Time) int64 {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != otp.DigitsSix.Length() {
		return 0
	}
	step := now.Unix() / totpPeriod
	found := int64(0)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step + d
		}
	}
	return found
}
