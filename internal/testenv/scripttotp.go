package testenv

import (
	"fmt"
	"regexp"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/rogpeppe/go-internal/testscript"
)

var otpauthURI = regexp.MustCompile(`otpauth://\S+`)

// cmdTOTP is the script command "totp NAME FILE [-next|-wrong]": $NAME is
// the one-time code an authenticator app shows now for the otpauth URI in
// FILE (the first one in it: paraphe-ca rao add's output or its
// --otpauth-file); with -next the next one (the server accepts one step
// ahead: a second login within the same 30 seconds uses it, a code being
// good once); with -wrong a code of six digits that is none the server
// accepts now.
func cmdTOTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != "-next" && args[2] != "-wrong") {
		ts.Fatalf("usage: totp NAME FILE [-next|-wrong]")
	}
	uri := otpauthURI.FindString(ts.ReadFile(args[1]))
	if uri == "" {
		ts.Fatalf("totp: no otpauth URI in %s", args[1])
	}
	key, err := otp.NewKeyFromURL(uri)
	ts.Check(err)
	period := time.Duration(key.Period()) * time.Second
	opts := totp.ValidateOpts{Period: uint(key.Period()), Digits: key.Digits(), Algorithm: key.Algorithm()}
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(key.Secret(), at, opts)
		ts.Check(err)
		return c
	}
	now := time.Now()
	switch {
	case len(args) == 2:
		ts.Setenv(args[0], code(now))
	case args[2] == "-next":
		ts.Setenv(args[0], code(now.Add(period)))
	default:
		// Not the code of any step the server may be at, a minute either way.
		taken := map[string]bool{}
		for d := -3; d <= 3; d++ {
			taken[code(now.Add(time.Duration(d)*period))] = true
		}
		for n := 0; ; n++ {
			if c := fmt.Sprintf("%06d", n); !taken[c] {
				ts.Setenv(args[0], c)
				return
			}
		}
	}
}
