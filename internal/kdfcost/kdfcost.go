// Package kdfcost is the cost of the Argon2id stretches Paraphe puts on
// secrets: a keychain key's PIN (pkcs/keychain.go) and what the CA stores
// of its holders' answers, passwords, PINs and PUKs (ca/answerhash.go).
// Each key file and each stored hash records the parameters it was made
// with, so a change here concerns new keys and new secrets only.
//
// They are variables for one writer: the quick tests (make check, go test
// -short), where internal/testenv makes new ones cheap (Quicken) so that
// the journeys, which seal and open keys and check answers many times, fit
// the edit–test loop. make test keeps these values. docs/architecture_test.go
// lets only pkcs, ca and internal/testenv import this package.
package kdfcost

// Argon2 are Argon2id's parameters.
type Argon2 struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// Keychain is what a keychain key's PIN is stretched with: RFC 9106's
// second recommendation, about 0.1 s on one core.
var Keychain = Argon2{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// Secrets is what the CA hashes the secrets it keeps with (OWASP's
// minimum: 19 MiB, 2 passes).
var Secrets = Argon2{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// quickKeychain and quickSecrets are the cheapest each reader takes (the
// keychain refuses less memory as a damaged file): for -short tests only.
var (
	quickKeychain = Argon2{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
	quickSecrets  = Argon2{Time: 1, MemoryKiB: 1024, Threads: 1}
)

// Quicken sets Keychain and Secrets to their quick values.
func Quicken() { Keychain, Secrets = quickKeychain, quickSecrets }
