package protocol

import (
	"crypto/rand"
	"errors"
	"strings"
)

// Reference codes are 16 symbols of Crockford's base 32 alphabet (no I, L, O,
// U: nothing to confuse when read over the phone), written in four groups of
// four: 15 random symbols (75 bits) and a Luhn mod 32 check symbol that
// catches every single-symbol typo and most swaps of neighbours.
const (
	refAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	refSymbols  = 16
)

// ErrRefFormat is returned by ParseRefCode for a string that cannot be a
// reference code: wrong length or a symbol outside the alphabet.
var ErrRefFormat = errors.New("protocol: not a reference code (16 letters and digits, e.g. ABCD-EFGH-JKMN-PQRS)")

// ErrRefCheck is returned by ParseRefCode when every symbol is valid but the
// check symbol does not match: almost certainly a typo.
var ErrRefCheck = errors.New("protocol: reference code check failed (a symbol is mistyped)")

// NewRefCode returns a fresh random reference code in its canonical form.
func NewRefCode() string {
	var b [refSymbols - 1]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var s [refSymbols]byte
	for i, v := range b {
		s[i] = refAlphabet[v&31]
	}
	s[refSymbols-1] = refAlphabet[luhn32(s[:refSymbols-1])]
	return group(string(s[:]))
}

// ParseRefCode returns the canonical form (XXXX-XXXX-XXXX-XXXX) of a code as
// a person typed it: case, spaces and dashes are ignored, and O, I and L are
// read as 0, 1 and 1.
func ParseRefCode(typed string) (string, error) {
	s, err := refSymbolsOf(typed)
	if err != nil {
		return "", err
	}
	if len(s) != refSymbols {
		return "", ErrRefFormat
	}
	if refAlphabet[luhn32([]byte(s[:refSymbols-1]))] != s[refSymbols-1] {
		return "", ErrRefCheck
	}
	return group(s), nil
}

// RefCodeProgress reports how far a partly typed code is valid, for a form
// that checks as the holder types: complete is true once 16 symbols are
// there, and err is non-nil as soon as the input cannot become a valid code.
func RefCodeProgress(typed string) (complete bool, err error) {
	s, err := refSymbolsOf(typed)
	if err != nil {
		return false, err
	}
	switch {
	case len(s) < refSymbols:
		return false, nil
	case len(s) > refSymbols:
		return false, ErrRefFormat
	}
	_, err = ParseRefCode(s)
	return err == nil, err
}

func refSymbolsOf(typed string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(refAlphabet, byte(r)) < 0 {
			return "", ErrRefFormat
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}

// luhn32 computes the Luhn mod N check symbol (N = 32) over s.
func luhn32(s []byte) int {
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		v := strings.IndexByte(refAlphabet, s[i]) * factor
		sum += v/32 + v%32
		factor = 3 - factor
	}
	return (32 - sum%32) % 32
}

func group(s string) string {
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// RedactRef keeps the first group of a reference code for logs and reports:
// enough to find the record, not enough to use it.
func RedactRef(code string) string {
	if len(code) <= 4 {
		return "****"
	}
	return code[:4] + "-****"
}
