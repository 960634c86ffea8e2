package config

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// PINPolicy is what a new PIN must look like. For tokens it is usually a
// fixed number of digits; for keys in the OS keychain it is a password.
//
// Every field is written out, even a zero one: a policy file is read over
// the defaults, so a zero left out would bring the default back.
type PINPolicy struct {
	MinLength      int  `json:"min_length"`
	MaxLength      int  `json:"max_length"` // 0: no maximum
	DigitsOnly     bool `json:"digits_only"`
	RequireUpper   bool `json:"require_upper"`
	RequireLower   bool `json:"require_lower"`
	RequireDigit   bool `json:"require_digit"`
	RequireSpecial bool `json:"require_special"`
	MaxRepeat      int  `json:"max_repeat"` // most identical characters in a row; 0: any
	// MaxAttempts is how many wrong PINs in a row lock a keychain key
	// (tokens count for themselves). 0 means 5.
	MaxAttempts int `json:"max_attempts"`
}

// DefaultTokenPolicy: exactly 8 digits.
func DefaultTokenPolicy() PINPolicy {
	return PINPolicy{MinLength: 8, MaxLength: 8, DigitsOnly: true}
}

// DefaultPasswordPolicy: at least 8 characters with upper and lower case, a
// digit and a special character, never three identical characters in a row.
func DefaultPasswordPolicy() PINPolicy {
	return PINPolicy{MinLength: 8, MaxLength: 64, RequireUpper: true, RequireLower: true,
		RequireDigit: true, RequireSpecial: true, MaxRepeat: 2, MaxAttempts: 5}
}

// Attempts returns MaxAttempts or its default.
func (r PINPolicy) Attempts() int {
	if r.MaxAttempts <= 0 {
		return 5
	}
	return r.MaxAttempts
}

func (r PINPolicy) invalid() (field, detail string) {
	switch {
	case r.MinLength < 4 || r.MinLength > 64:
		return "min_length", fmt.Sprint(r.MinLength, " (4 to 64)")
	case r.MaxLength != 0 && r.MaxLength < r.MinLength:
		return "max_length", fmt.Sprint(r.MaxLength, " (at least min_length)")
	case r.MaxRepeat < 0:
		return "max_repeat", fmt.Sprint(r.MaxRepeat)
	case r.MaxAttempts < 0 || r.MaxAttempts > 100:
		return "max_attempts", fmt.Sprint(r.MaxAttempts, " (0 to 100)")
	case r.DigitsOnly && (r.RequireUpper || r.RequireLower || r.RequireSpecial):
		return "digits_only", "cannot be combined with require_upper, require_lower or require_special"
	}
	return "", ""
}

// PINError names the first rule a PIN breaks. Rule is one of the Rule
// constants; N is the number the rule is about (a length, a count).
type PINError struct {
	Rule string
	N    int
}

// Rules a PINError can name.
const (
	RuleTooShort   = "too_short"
	RuleTooLong    = "too_long"
	RuleDigitsOnly = "digits_only"
	RuleUpper      = "need_upper"
	RuleLower      = "need_lower"
	RuleDigit      = "need_digit"
	RuleSpecial    = "need_special"
	RuleRepeat     = "repeat"
)

func (e *PINError) Error() string {
	switch e.Rule {
	case RuleTooShort:
		return fmt.Sprintf("config: the PIN must have at least %d characters", e.N)
	case RuleTooLong:
		return fmt.Sprintf("config: the PIN must have at most %d characters", e.N)
	case RuleDigitsOnly:
		return "config: the PIN must be digits only"
	case RuleUpper:
		return "config: the PIN must contain an upper-case letter"
	case RuleLower:
		return "config: the PIN must contain a lower-case letter"
	case RuleDigit:
		return "config: the PIN must contain a digit"
	case RuleSpecial:
		return "config: the PIN must contain a special character"
	case RuleRepeat:
		return fmt.Sprintf("config: the PIN must not repeat a character more than %d times in a row", e.N)
	}
	return "config: the PIN does not meet the policy"
}

// Check returns a *PINError for the first rule pin breaks, or nil.
func (r PINPolicy) Check(pin []byte) error {
	n := utf8.RuneCount(pin)
	if n < r.MinLength {
		return &PINError{Rule: RuleTooShort, N: r.MinLength}
	}
	if r.MaxLength > 0 && n > r.MaxLength {
		return &PINError{Rule: RuleTooLong, N: r.MaxLength}
	}
	var upper, lower, digit, special bool
	run, prev := 0, rune(-1)
	for _, c := range string(pin) {
		switch {
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsLower(c):
			lower = true
		case unicode.IsDigit(c):
			digit = true
		default:
			special = true
		}
		if c == prev {
			run++
		} else {
			run, prev = 1, c
		}
		if r.MaxRepeat > 0 && run > r.MaxRepeat {
			return &PINError{Rule: RuleRepeat, N: r.MaxRepeat}
		}
		if r.DigitsOnly && (c < '0' || c > '9') {
			return &PINError{Rule: RuleDigitsOnly}
		}
	}
	switch {
	case r.RequireUpper && !upper:
		return &PINError{Rule: RuleUpper}
	case r.RequireLower && !lower:
		return &PINError{Rule: RuleLower}
	case r.RequireDigit && !digit:
		return &PINError{Rule: RuleDigit}
	case r.RequireSpecial && !special:
		return &PINError{Rule: RuleSpecial}
	}
	return nil
}
