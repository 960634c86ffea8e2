package ca

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"github.com/paraphe/paraphe/internal/kdfcost"
	"github.com/paraphe/paraphe/protocol"
)

// hashAnswer returns the PHC string of the normalised answer.
func hashAnswer(answer string) string { return hashSecret(protocol.NormalizeAnswer(answer)) }

// checkAnswer reports whether answer matches a PHC string from hashAnswer.
func checkAnswer(phc, answer string) bool { return checkSecret(phc, protocol.NormalizeAnswer(answer)) }

// hashSecret returns the PHC string of a secret as it is (a password, a
// PIN, a PUK: no normalisation).
func hashSecret(secret string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	// Argon2id's parameters (internal/kdfcost), written into each hash,
	// PHC style, so that they can grow.
	c := kdfcost.Secrets
	sum := argon2.IDKey([]byte(secret), salt, c.Time, c.MemoryKiB, c.Threads, 32)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.MemoryKiB, c.Time, c.Threads, b64(salt), b64(sum))
}

// dummyHash is checked for an unknown officer or remote user ID, as long as
// a real check, so that timing does not tell names apart. It is made on
// first use: made as the package started, it cost every process linking
// ca (paraphe's CLI too, for its demo CA) 88 ms and 40 MB before main.
var dummyHash = sync.OnceValue(func() string { return hashSecret("paraphe: no such account") })

// checkSecret reports whether secret matches a PHC string from hashSecret.
func checkSecret(phc, secret string) bool {
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
	got := argon2.IDKey([]byte(secret), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
