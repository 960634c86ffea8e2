package pkcs

import (
	"crypto"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// errOAEP is a message that does not decode: another key's, or damaged.
// One error for every cause, as RFC 8017 asks.
var errOAEP = errors.New("pkcs: RSA-OAEP decryption error")

// decodeOAEP is EME-OAEP decoding (RFC 8017 section 7.1.2, step 3, with
// an empty label) of em, the raw RSA decryption of a ciphertext under
// pub, for tokens that decrypt RSA but not OAEP with this hash. The
// checks run in constant time, without branching on where they fail.
func decodeOAEP(hash, mgfHash crypto.Hash, pub *rsa.PublicKey, em []byte) ([]byte, error) {
	k := (pub.N.BitLen() + 7) / 8
	hLen := hash.Size()
	if len(em) > k || k < 2*hLen+2 || !hash.Available() || !mgfHash.Available() {
		return nil, errOAEP
	}
	padded := make([]byte, k) // the token may drop leading zeros
	copy(padded[k-len(em):], em)
	em = padded
	seed, db := em[1:1+hLen], em[1+hLen:]
	mgf1XOR(seed, mgfHash, db)
	mgf1XOR(db, mgfHash, seed)
	h := hash.New()
	lHash := h.Sum(nil)
	good := subtle.ConstantTimeByteEq(em[0], 0) & subtle.ConstantTimeCompare(db[:hLen], lHash)
	// After lHash: zeros, then 0x01, then the message.
	lookingForIndex, index, invalid := 1, 0, 0
	rest := db[hLen:]
	for i := range rest {
		equals0 := subtle.ConstantTimeByteEq(rest[i], 0)
		equals1 := subtle.ConstantTimeByteEq(rest[i], 1)
		index = subtle.ConstantTimeSelect(lookingForIndex&equals1, i, index)
		lookingForIndex = subtle.ConstantTimeSelect(equals1, 0, lookingForIndex)
		invalid = subtle.ConstantTimeSelect(lookingForIndex&^equals0, 1, invalid)
	}
	if good&^invalid&^lookingForIndex != 1 {
		return nil, errOAEP
	}
	return append([]byte{}, rest[index+1:]...), nil
}

// mgf1XOR XORs out with MGF1 (RFC 8017 appendix B.2.1) of seed.
func mgf1XOR(out []byte, hash crypto.Hash, seed []byte) {
	var counter [4]byte
	for done := 0; done < len(out); {
		h := hash.New()
		h.Write(seed)
		h.Write(counter[:])
		for _, b := range h.Sum(nil) {
			if done == len(out) {
				break
			}
			out[done] ^= b
			done++
		}
		binary.BigEndian.PutUint32(counter[:], binary.BigEndian.Uint32(counter[:])+1)
	}
}
