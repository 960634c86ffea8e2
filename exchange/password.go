package exchange

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for passwords (OWASP's: 19 MiB, 2 passes), written
// into each hash, PHC style, so they can grow.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
)

func hashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	sum := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, 32)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(sum))
}

// checkPassword reports whether password matches phc. An empty phc (no
// password set yet) matches nothing, after the same work.
func checkPassword(phc, password string) bool {
	if phc == "" {
		phc = dummyHash()
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && phc != dummyHash()
}

// dummyHash is checked for unknown users, so that a sign-in takes as long
// whether the account exists or not. It is made on first use, not as the
// package starts (47 ms before every command's main).
var dummyHash = sync.OnceValue(func() string { return hashPassword("not a password: nobody signs in with this") })

// Password rules, stated on the pages and checked in the browser too
// (static/password.js): NIST SP 800-63B's, length over composition.
const (
	MinPassword = 12
	MaxPassword = 128
)

// Rule is a password rule a password broke; its words are the
// catalogue's "exchange.rule.<rule>".
type Rule string

// Rules.
const (
	RuleShort    Rule = "short"    // fewer than MinPassword characters
	RuleLong     Rule = "long"     // more than MaxPassword
	RuleRepeated Rule = "repeated" // one character over and over
	RulePersonal Rule = "personal" // holds the e-mail address or user code
	RuleMismatch Rule = "mismatch" // the two entries differ
)

// Rules are every rule, for the catalogue's tests.
var Rules = []Rule{RuleShort, RuleLong, RuleRepeated, RulePersonal, RuleMismatch}

// PasswordError is a password the rules refuse.
type PasswordError struct{ Rule Rule }

func (e *PasswordError) Error() string {
	return "exchange: the password breaks a rule: " + string(e.Rule)
}

// CheckPassword applies the rules to a new password for u, given twice.
func CheckPassword(u *User, password, again string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPassword:
		return &PasswordError{RuleShort}
	case n > MaxPassword:
		return &PasswordError{RuleLong}
	case strings.Trim(password, password[:utf8.RuneLen([]rune(password)[0])]) == "":
		return &PasswordError{RuleRepeated}
	}
	low := strings.ToLower(password)
	local, _, _ := strings.Cut(u.Email, "@")
	for _, s := range []string{u.Email, local, strings.ToLower(u.Code), strings.ToLower(strings.ReplaceAll(u.Code, "-", ""))} {
		if len(s) >= 4 && strings.Contains(low, s) {
			return &PasswordError{RulePersonal}
		}
	}
	if password != again {
		return &PasswordError{RuleMismatch}
	}
	return nil
}
