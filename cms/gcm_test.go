package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	mrand "math/rand/v2"
	"testing"
)

// The streamed AES-GCM against the standard library's, for every length
// up to a few blocks and random ones beyond, cut at random places.
func TestGCMStreamMatchesTheStandardLibrary(t *testing.T) {
	key, nonce := make([]byte, 32), make([]byte, 12)
	lengths := []int{}
	for n := 0; n <= 70; n++ {
		lengths = append(lengths, n)
	}
	for range 30 {
		lengths = append(lengths, mrand.IntN(200000))
	}
	for _, n := range lengths {
		rand.Read(key)
		rand.Read(nonce)
		msg := make([]byte, n)
		rand.Read(msg)
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		want := gcm.Seal(nil, nonce, msg, nil)

		s, err := newGCMStream(key, nonce)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		for off := 0; off < n; {
			k := min(n-off, 1+mrand.IntN(100))
			if err := s.seal(got[off:], msg[off:off+k]); err != nil {
				t.Fatal(err)
			}
			off += k
		}
		got = append(got, s.tag()...)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: the stream's ciphertext and tag differ from crypto/cipher's", n)
		}

		o, _ := newGCMStream(key, nonce)
		plain := make([]byte, n)
		for off := 0; off < n; {
			k := min(n-off, 1+mrand.IntN(1000))
			o.open(plain[off:], want[off:off+k])
			off += k
		}
		if !bytes.Equal(plain, msg) || !o.check(want[n:]) {
			t.Fatalf("%d bytes: not opened", n)
		}
	}
}

// A changed byte anywhere, or a changed tag, fails the check.
func TestGCMStreamDetectsChanges(t *testing.T) {
	key, nonce := make([]byte, 32), make([]byte, 12)
	msg := bytes.Repeat([]byte("document "), 1000)
	s, _ := newGCMStream(key, nonce)
	sealed := make([]byte, len(msg))
	s.seal(sealed, msg)
	sealed = append(sealed, s.tag()...)
	for _, at := range []int{0, 17, len(msg) - 1, len(msg), len(sealed) - 1} {
		bad := bytes.Clone(sealed)
		bad[at] ^= 1
		o, _ := newGCMStream(key, nonce)
		o.open(make([]byte, len(msg)), bad[:len(msg)])
		if o.check(bad[len(msg):]) {
			t.Errorf("a change at byte %d went unnoticed", at)
		}
	}
}

func BenchmarkGCMStream(b *testing.B) {
	key, nonce := make([]byte, 32), make([]byte, 12)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	s, _ := newGCMStream(key, nonce)
	for range b.N {
		s.seal(buf, buf)
		if s.n > gcmMaxBytes/2 {
			s, _ = newGCMStream(key, nonce)
		}
	}
}
