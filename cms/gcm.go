package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math/bits"
)

// AES-GCM (NIST SP 800-38D) over a stream, for AuthEnvelopedData: the
// standard library seals a message whole, while a document of any size
// must go through in constant memory. The keystream is the library's
// AES-CTR (counter blocks nonce‖2, nonce‖3…, the same as GCM's inc32 for
// every message GCM allows, below 2^32 blocks), the tag GHASH below.
// Tests compare both with crypto/cipher's GCM.

// gcmMaxBytes is the most GCM encrypts under one nonce: 2^32 − 2 blocks.
const gcmMaxBytes = (1<<32 - 2) * 16

var errGCMTooLong = errors.New("cms: content longer than AES-GCM allows (64 GiB)")

// gcmStream encrypts or decrypts with AES-GCM as bytes come, and gives
// the tag at the end. Additional data is not used (AuthEnvelopedData
// without authenticated attributes).
type gcmStream struct {
	ctr   cipher.Stream
	g     ghash
	j0    [16]byte // E(K, nonce‖1), masks the tag
	part  [16]byte // a ciphertext block not yet hashed
	npart int
	n     uint64 // ciphertext bytes so far
}

// newGCMStream takes a 12-byte nonce only, and must: with any other
// length J0 is a GHASH, its low 32 bits anything, and the library's CTR,
// which carries into the upper 96 bits where inc32 wraps, would part from
// GCM there, within the first blocks for some IVs (Wycheproof's
// ConstructedIv cases, which the tests run through a reference GCM).
func newGCMStream(key, nonce []byte) (*gcmStream, error) {
	if len(nonce) != 12 {
		return nil, errors.New("cms: AES-GCM nonce is not 12 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	s := &gcmStream{}
	var h [16]byte
	block.Encrypt(h[:], h[:])
	s.g.init(h)
	var ctr [16]byte
	copy(ctr[:], nonce)
	ctr[15] = 1
	block.Encrypt(s.j0[:], ctr[:])
	ctr[15] = 2
	s.ctr = cipher.NewCTR(block, ctr[:])
	return s, nil
}

// seal encrypts p into dst (len(dst) ≥ len(p)).
func (s *gcmStream) seal(dst, p []byte) error {
	if s.n+uint64(len(p)) > gcmMaxBytes {
		return errGCMTooLong
	}
	s.ctr.XORKeyStream(dst[:len(p)], p)
	s.hash(dst[:len(p)])
	return nil
}

// open decrypts p into dst; the plaintext is authenticated only once
// check accepts the tag.
func (s *gcmStream) open(dst, p []byte) error {
	if s.n+uint64(len(p)) > gcmMaxBytes {
		return errGCMTooLong
	}
	s.hash(p)
	s.ctr.XORKeyStream(dst[:len(p)], p)
	return nil
}

// hash adds ciphertext to GHASH, a whole block at a time.
func (s *gcmStream) hash(c []byte) {
	s.n += uint64(len(c))
	if s.npart > 0 {
		k := copy(s.part[s.npart:], c)
		s.npart += k
		c = c[k:]
		if s.npart < 16 {
			return
		}
		s.g.update(s.part[:])
		s.npart = 0
	}
	whole := len(c) &^ 15
	s.g.update(c[:whole])
	s.npart = copy(s.part[:], c[whole:])
}

// tag is the 16-byte authentication tag of what went through.
func (s *gcmStream) tag() []byte {
	if s.npart > 0 {
		clear(s.part[s.npart:])
		s.g.update(s.part[:])
		s.npart = 0
	}
	var lengths [16]byte // bit lengths of the additional data (none) and of the ciphertext
	binary.BigEndian.PutUint64(lengths[8:], s.n*8)
	s.g.update(lengths[:])
	t := s.g.sum()
	subtle.XORBytes(t[:], t[:], s.j0[:])
	return t[:]
}

// check reports, in constant time, whether tag is the one of what went
// through: all 16 bytes of it, or its first 12 to 15 (RFC 5084's
// aes-ICVlen); a shorter one never is.
func (s *gcmStream) check(tag []byte) bool {
	if len(tag) < 12 || len(tag) > 16 {
		return false
	}
	return subtle.ConstantTimeCompare(s.tag()[:len(tag)], tag) == 1
}

// ghash is GCM's universal hash, multiplied in constant time with
// integer multiplications (the carry-less method of BearSSL's
// ghash_ctmul64, by Thomas Pornin): no table indexed by secret data.
type ghash struct {
	y1, y0        uint64 // the state, big-endian halves
	h1, h0, h2    uint64 // the key H, and h0^h1
	h1r, h0r, h2r uint64 // the same bit-reversed
}

func (g *ghash) init(h [16]byte) {
	g.h1, g.h0 = binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:])
	g.h0r, g.h1r = bits.Reverse64(g.h0), bits.Reverse64(g.h1)
	g.h2, g.h2r = g.h0^g.h1, g.h0r^g.h1r
}

// update hashes whole 16-byte blocks.
func (g *ghash) update(blocks []byte) {
	y0, y1 := g.y0, g.y1
	for ; len(blocks) >= 16; blocks = blocks[16:] {
		y1 ^= binary.BigEndian.Uint64(blocks[:8])
		y0 ^= binary.BigEndian.Uint64(blocks[8:16])
		y0r, y1r := bits.Reverse64(y0), bits.Reverse64(y1)
		y2, y2r := y0^y1, y0r^y1r
		// Karatsuba: three 64×64 carry-less products for the low halves,
		// three over reversed bits for the high halves.
		z0, z1, z2 := bmul64(y0, g.h0), bmul64(y1, g.h1), bmul64(y2, g.h2)
		z0h, z1h, z2h := bmul64(y0r, g.h0r), bmul64(y1r, g.h1r), bmul64(y2r, g.h2r)
		z2 ^= z0 ^ z1
		z2h ^= z0h ^ z1h
		z0h = bits.Reverse64(z0h) >> 1
		z1h = bits.Reverse64(z1h) >> 1
		z2h = bits.Reverse64(z2h) >> 1
		v0, v1, v2, v3 := z0, z0h^z2, z1^z2h, z1h
		// GCM's bit order: shift the 256-bit product left by one…
		v3 = v3<<1 | v2>>63
		v2 = v2<<1 | v1>>63
		v1 = v1<<1 | v0>>63
		v0 <<= 1
		// …and reduce it modulo x^128 + x^7 + x^2 + x + 1.
		v2 ^= v0 ^ v0>>1 ^ v0>>2 ^ v0>>7
		v1 ^= v0<<63 ^ v0<<62 ^ v0<<57
		v3 ^= v1 ^ v1>>1 ^ v1>>2 ^ v1>>7
		v2 ^= v1<<63 ^ v1<<62 ^ v1<<57
		y0, y1 = v2, v3
	}
	g.y0, g.y1 = y0, y1
}

func (g *ghash) sum() [16]byte {
	var out [16]byte
	binary.BigEndian.PutUint64(out[:8], g.y1)
	binary.BigEndian.PutUint64(out[8:], g.y0)
	return out
}

// bmul64 is the low 64 bits of the carry-less product of x and y: each
// integer product runs over bits four apart, so that carries fall into
// the holes between them and are masked off.
func bmul64(x, y uint64) uint64 {
	const m0, m1, m2, m3 = 0x1111111111111111, 0x2222222222222222, 0x4444444444444444, 0x8888888888888888
	x0, x1, x2, x3 := x&m0, x&m1, x&m2, x&m3
	y0, y1, y2, y3 := y&m0, y&m1, y&m2, y&m3
	z0 := x0*y0 ^ x1*y3 ^ x2*y2 ^ x3*y1
	z1 := x0*y1 ^ x1*y0 ^ x2*y3 ^ x3*y2
	z2 := x0*y2 ^ x1*y1 ^ x2*y0 ^ x3*y3
	z3 := x0*y3 ^ x1*y2 ^ x2*y1 ^ x3*y0
	return z0&m0 | z1&m1 | z2&m2 | z3&m3
}
