package netclient

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// squid's ntlm_fake_auth sends a target name at a random offset and no
// target information though its flags announce some: tidyChallenge drops
// both; a well-formed challenge is left as it is.
func TestTidyChallenge(t *testing.T) {
	fake, _ := hex.DecodeString("4e544c4d535350000200000009000900aeaaaaaa019288a04267c06b91b27aff0000000000003a00574f524b47524f5550")
	got := tidyChallenge(fake)
	if !bytes.Equal(got[12:20], make([]byte, 8)) || !bytes.Equal(got[40:48], make([]byte, 8)) || !bytes.Equal(got[24:32], fake[24:32]) {
		t.Fatalf("fake challenge: %x", got)
	}
	// Target name "EX" at 48, no target information.
	good, _ := hex.DecodeString("4e544c4d53535000020000000200020030000000058289a00123456789abcdef0000000000000000000000003000000045005800")
	if !bytes.Equal(tidyChallenge(good), good) {
		t.Fatalf("a well-formed challenge was changed: %x", tidyChallenge(good))
	}
}
