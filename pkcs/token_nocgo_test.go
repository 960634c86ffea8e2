//go:build !cgo

package pkcs

import (
	"errors"
	"testing"
)

func TestNoCgoTokens(t *testing.T) {
	if _, err := OpenToken("/usr/lib/softhsm/libsofthsm2.so", ""); !errors.Is(err, ErrNoPKCS11) {
		t.Fatalf("OpenToken without cgo: %v", err)
	}
	if _, err := ListTokens("/usr/lib/softhsm/libsofthsm2.so"); !errors.Is(err, ErrNoPKCS11) {
		t.Fatalf("ListTokens without cgo: %v", err)
	}
}
