package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"os"
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
	// A tag cut to 12 bytes is one (RFC 5084 allows 12 to 16); shorter
	// ones, longer ones and none are not, even when they begin it.
	tag := sealed[len(msg):]
	for n, want := range map[int]bool{0: false, 1: false, 4: false, 8: false, 11: false, 12: true, 15: true, 16: true, 17: false} {
		cut := append(bytes.Clone(tag), 0)[:n]
		o, _ := newGCMStream(key, nonce)
		o.open(make([]byte, len(msg)), sealed[:len(msg)])
		if o.check(cut) != want {
			t.Errorf("a %d-byte tag: accepted=%v", n, !want)
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

// wycheproofGCM is the part of a Wycheproof AEAD file the tests read.
type wycheproofGCM struct {
	TestGroups []struct {
		IVSize, KeySize, TagSize int
		Tests                    []struct {
			TcID                               int
			Key, IV, AAD, Msg, CT, Tag, Result string
			Flags                              []string
		}
	}
}

// Wycheproof's AES-GCM vectors: those AuthEnvelopedData can carry (a
// 12-byte nonce, no additional data) through the stream, cut at random
// places, which must open the valid ones and refuse every modified tag;
// all of them through the GHASH with a reference GCM (any IV length,
// additional data, the 32-bit counter's wrap).
func TestGCMWycheproof(t *testing.T) {
	raw, err := os.ReadFile("testdata/wycheproof/aes_gcm_test.json")
	if err != nil {
		t.Fatal(err)
	}
	var f wycheproofGCM
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	streamed, n := 0, 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			n++
			key, iv, aad, msg := unhex(t, tc.Key), unhex(t, tc.IV), unhex(t, tc.AAD), unhex(t, tc.Msg)
			ct, tag := unhex(t, tc.CT), unhex(t, tc.Tag)
			valid := tc.Result != "invalid"
			got, ok := referenceGCM(key, iv, aad, msg)
			switch {
			case !ok && len(iv) != 0:
				t.Errorf("case %d: the reference refused a %d-byte IV", tc.TcID, len(iv))
			case ok && valid && !bytes.Equal(got, append(bytes.Clone(ct), tag...)):
				t.Errorf("case %d (%v): GHASH gives another ciphertext or tag", tc.TcID, tc.Flags)
			case ok && !valid && bytes.Equal(got[len(ct):], tag):
				t.Errorf("case %d (%v): an invalid tag computed as valid", tc.TcID, tc.Flags)
			}
			if len(iv) != 12 || len(aad) != 0 || len(key) != 32 && len(key) != 16 && len(key) != 24 {
				continue
			}
			streamed++
			if opened, accepted := openInPieces(t, key, iv, ct, tag); accepted != valid || valid && !bytes.Equal(opened, msg) {
				t.Errorf("case %d (%s, %v): the stream accepted=%v", tc.TcID, tc.Result, tc.Flags, accepted)
			}
			if valid {
				s, _ := newGCMStream(key, iv)
				sealed := make([]byte, len(msg))
				s.seal(sealed, msg)
				if !bytes.Equal(sealed, ct) || !bytes.Equal(s.tag(), tag) {
					t.Errorf("case %d: the stream seals otherwise", tc.TcID)
				}
			}
		}
	}
	if n != 256 || streamed != 118 {
		t.Fatalf("%d cases, %d through the stream", n, streamed)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// openInPieces opens ct in random pieces and checks tag.
func openInPieces(t *testing.T, key, nonce, ct, tag []byte) ([]byte, bool) {
	t.Helper()
	o, err := newGCMStream(key, nonce)
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, len(ct))
	for off := 0; off < len(ct); {
		k := min(len(ct)-off, 1+mrand.IntN(40))
		if err := o.open(plain[off:], ct[off:off+k]); err != nil {
			t.Fatal(err)
		}
		off += k
	}
	return plain, o.check(tag)
}

// referenceGCM is GCM as NIST SP 800-38D §7.1 writes it, over this
// package's GHASH and the AES block alone: J0 from any IV, a counter
// incremented modulo 2^32 (inc32), additional data. It returns the
// ciphertext and the 16-byte tag; false for an empty IV, which the
// standard forbids.
func referenceGCM(key, iv, aad, msg []byte) ([]byte, bool) {
	block, err := aes.NewCipher(key)
	if err != nil || len(iv) == 0 {
		return nil, false
	}
	var h, j0 [16]byte
	block.Encrypt(h[:], h[:])
	if len(iv) == 12 {
		copy(j0[:], iv)
		j0[15] = 1
	} else {
		var g ghash
		g.init(h)
		g.update(padded(iv))
		var lens [16]byte
		binary.BigEndian.PutUint64(lens[8:], uint64(len(iv))*8)
		g.update(lens[:])
		j0 = g.sum()
	}
	out := make([]byte, len(msg), len(msg)+16)
	cb := j0
	var ks [16]byte
	for i := 0; i < len(msg); i += 16 {
		binary.BigEndian.PutUint32(cb[12:], binary.BigEndian.Uint32(cb[12:])+1) // inc32
		block.Encrypt(ks[:], cb[:])
		subtle.XORBytes(out[i:], msg[i:], ks[:])
	}
	var g ghash
	g.init(h)
	g.update(padded(aad))
	g.update(padded(out))
	var lens [16]byte
	binary.BigEndian.PutUint64(lens[:8], uint64(len(aad))*8)
	binary.BigEndian.PutUint64(lens[8:], uint64(len(out))*8)
	g.update(lens[:])
	s := g.sum()
	block.Encrypt(ks[:], j0[:])
	subtle.XORBytes(s[:], s[:], ks[:])
	return append(out, s[:]...), true
}

// padded is b followed by zeros up to a whole number of blocks.
func padded(b []byte) []byte {
	return append(bytes.Clone(b), make([]byte, (16-len(b)%16)%16)...)
}

// The stream stops at GCM's limit, 2^32 − 2 blocks under one nonce: the
// last block's counter is nonce‖0xffffffff, and the library's CTR, which
// carries into the nonce where GCM's inc32 wraps, is never asked for
// more. Exactly up to the limit goes through; one byte more does not, in
// either direction, in one piece or across it.
func TestGCMStreamLimit(t *testing.T) {
	key, nonce := make([]byte, 32), make([]byte, 12)
	buf := make([]byte, 64)
	for _, dir := range []string{"seal", "open"} {
		op := func(s *gcmStream, p []byte) error {
			if dir == "seal" {
				return s.seal(buf, p)
			}
			return s.open(buf, p)
		}
		s, _ := newGCMStream(key, nonce)
		s.n = gcmMaxBytes - 40
		if err := op(s, buf[:24]); err != nil {
			t.Fatalf("%s below the limit: %v", dir, err)
		}
		if err := op(s, buf[:17]); !errors.Is(err, errGCMTooLong) {
			t.Errorf("%s across the limit: %v", dir, err)
		}
		if err := op(s, buf[:16]); err != nil {
			t.Fatalf("%s up to the limit: %v", dir, err)
		}
		if err := op(s, buf[:1]); !errors.Is(err, errGCMTooLong) {
			t.Errorf("%s beyond the limit: %v", dir, err)
		}
		if err := op(s, nil); err != nil {
			t.Errorf("%s of nothing at the limit: %v", dir, err)
		}
	}
	if gcmMaxBytes != 68719476704 { // SP 800-38D: 2^39 − 256 bits
		t.Errorf("gcmMaxBytes is %d", gcmMaxBytes)
	}
}

// FuzzGCMStream compares the stream, cut where the fuzzer says, with
// crypto/cipher's GCM, and the GHASH with crypto/cipher's for any
// nonce size and additional data; a changed byte must fail both.
func FuzzGCMStream(f *testing.F) {
	f.Add([]byte("key"), []byte("document"), []byte{}, uint8(12), uint64(1))
	f.Add([]byte{}, []byte{}, []byte("only additional data"), uint8(1), uint64(2))
	f.Add([]byte{1}, bytes.Repeat([]byte{0xff}, 100), []byte("aad"), uint8(16), uint64(3))
	f.Fuzz(func(t *testing.T, seed, msg, aad []byte, nonceSize uint8, cuts uint64) {
		sum := sha256.Sum256(seed)
		key, nonce := sum[:], bytes.Repeat(sum[:], 9)[:12]
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		want := gcm.Seal(nil, nonce, msg, nil)
		r := mrand.New(mrand.NewPCG(cuts, 0))
		s, _ := newGCMStream(key, nonce)
		got := make([]byte, len(msg))
		for off := 0; off < len(msg); {
			k := min(len(msg)-off, r.IntN(50))
			if err := s.seal(got[off:], msg[off:off+k]); err != nil {
				t.Fatal(err)
			}
			off += k
		}
		if got = append(got, s.tag()...); !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: the stream differs from crypto/cipher", len(msg))
		}
		bad := bytes.Clone(want)
		bad[r.IntN(len(bad))] ^= byte(1 + r.IntN(255))
		o, _ := newGCMStream(key, nonce)
		o.open(make([]byte, len(msg)), bad[:len(msg)])
		if o.check(bad[len(msg):]) {
			t.Fatal("a changed byte went through")
		}

		if nonceSize == 0 {
			return
		}
		long := bytes.Repeat(sum[:], 8)[:nonceSize]
		other, err := cipher.NewGCMWithNonceSize(block, int(nonceSize))
		if err != nil {
			t.Skip(err)
		}
		ref, _ := referenceGCM(key, long, aad, msg)
		if !bytes.Equal(ref, other.Seal(nil, long, msg, aad)) {
			t.Fatalf("GHASH with a %d-byte nonce, %d bytes of additional data, %d of message differs from crypto/cipher", nonceSize, len(aad), len(msg))
		}
	})
}

// The stream and crypto/cipher's GCM on a 64 MiB document.
func BenchmarkGCM64MiB(b *testing.B) {
	key, nonce := make([]byte, 32), make([]byte, 12)
	doc := make([]byte, 64<<20)
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for range b.N {
			s, _ := newGCMStream(key, nonce)
			for off := 0; off < len(doc); off += segmentSize {
				p := doc[off:min(off+segmentSize, len(doc))]
				s.seal(p, p)
			}
			s.tag()
		}
	})
	b.Run("crypto-cipher", func(b *testing.B) {
		block, _ := aes.NewCipher(key)
		gcm, _ := cipher.NewGCM(block)
		out := make([]byte, 0, len(doc)+16)
		b.SetBytes(int64(len(doc)))
		for range b.N {
			gcm.Seal(out[:0], nonce, doc, nil)
		}
	})
	b.Run("ghash-only", func(b *testing.B) {
		var g ghash
		g.init([16]byte{1})
		b.SetBytes(int64(len(doc)))
		for range b.N {
			g.update(doc)
		}
	})
}
