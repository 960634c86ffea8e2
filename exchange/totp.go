package exchange

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP (RFC 6238 over RFC 4226's HOTP) as authenticator apps use it by
// default: HMAC-SHA-1, 6 digits, 30-second steps. A code is accepted one
// step early or late (clocks drift), and each step once only.
const (
	totpPeriod  = 30
	totpDigits  = 6
	totpSkew    = 1
	totpKeySize = 20 // 160 bits, RFC 4226's recommendation
)

// hotp is RFC 4226's value for counter.
func hotp(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// totpMatch returns the step code matches at now, or 0.
func totpMatch(key []byte, code string, now time.Time) int64 {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != totpDigits {
		return 0
	}
	step := totpStep(now)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		if hmac.Equal([]byte(hotp(key, uint64(step+d))), []byte(code)) {
			return step + d
		}
	}
	return 0
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpURI is the otpauth:// address authenticator apps read (Google
// Authenticator's key URI format).
func totpURI(issuer, account string, key []byte) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{"secret": {b32.EncodeToString(key)}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(totpPeriod)}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// groupKey writes a base32 key in groups of four, for typing.
func groupKey(key []byte) string {
	s := b32.EncodeToString(key)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
