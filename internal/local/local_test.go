package local

import (
	"slices"
	"testing"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/pkcs"
)

// The stores call themselves by the policy's names for them, which the
// policy's checks, the PIN rules and the catalogue go by.
func TestStoresHaveThePolicysNames(t *testing.T) {
	for _, s := range []pkcs.Store{pkcs.NewKeychainStore(t.TempDir(), 0), &pkcs.TokenStore{}} {
		if !slices.Contains(config.Stores, config.Store(s.Name())) {
			t.Errorf("%T is called %q, which is not in config.Stores %v", s, s.Name(), config.Stores)
		}
	}
	if config.Store(pkcs.TokenName) != config.StorePKCS11 || config.Store(pkcs.KeychainName) != config.StoreKeychain {
		t.Errorf("pkcs calls its stores %q and %q", pkcs.KeychainName, pkcs.TokenName)
	}
}
