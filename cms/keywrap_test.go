package cms

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// RFC 3394's test vectors (4.1, 4.3, 4.6: 128-bit key under 128-bit KEK,
// 128 under 256, 256 under 256).
func TestKeyWrapVectors(t *testing.T) {
	for _, v := range []struct{ kek, key, wrapped string }{
		{"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
			"28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		kek, _ := hex.DecodeString(v.kek)
		key, _ := hex.DecodeString(v.key)
		want, _ := hex.DecodeString(v.wrapped)
		got, err := wrapKey(kek, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("wrap %s under %s: %X, %v", v.key, v.kek, got, err)
		}
		back, err := unwrapKey(kek, want)
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("unwrap: %X, %v", back, err)
		}
		want[3] ^= 1
		if _, err := unwrapKey(kek, want); err == nil {
			t.Fatal("a changed wrapped key unwrapped")
		}
	}
}
