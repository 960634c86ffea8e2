package cms

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Documents encrypted to a recipient's certificate: CMS AuthEnvelopedData
// (RFC 5083) with AES-256-GCM (RFC 5084), the content-encryption key
// carried for each recipient by RSA-OAEP with SHA-256 (RFC 8017, RFC
// 4055) or by ephemeral-static ECDH (RFC 5753: the X9.63 KDF, AES key
// wrap). This is what S/MIME 4.0 (RFC 8551) asks for, and what
// "openssl cms -encrypt -aes-256-gcm" writes and "openssl cms -decrypt"
// reads. Content of any size streams through in constant memory.

// Object identifiers of encryption.
var (
	OIDEnvelopedData     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	OIDAuthEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}

	oidAES128GCM   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	oidAES192GCM   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 26}
	oidAES256GCM   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
	oidAES128Wrap  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 5}
	oidAES192Wrap  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 25}
	oidAES256Wrap  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}
	oidRSAESOAEP   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

// The ephemeral-static ECDH schemes, by the hash of their KDF.
var ecdhSchemes = map[string]Hash{
	"1.3.133.16.840.63.0.2": SHA1,
	"1.3.132.1.11.0":        SHA224,
	"1.3.132.1.11.1":        SHA256,
	"1.3.132.1.11.2":        SHA384,
	"1.3.132.1.11.3":        SHA512,
}

var ecdhSchemeFor = map[Hash]asn1.ObjectIdentifier{
	SHA256: {1, 3, 132, 1, 11, 1},
	SHA384: {1, 3, 132, 1, 11, 2},
	SHA512: {1, 3, 132, 1, 11, 3},
}

// Errors of encryption and decryption.
var (
	// ErrNotEnveloped: the file is not an encrypted CMS message.
	ErrNotEnveloped = errors.New("cms: not an encrypted (AuthEnvelopedData) message")
	// ErrNotRecipient: the message is encrypted to others, not to this
	// certificate.
	ErrNotRecipient = errors.New("cms: the message is not encrypted to this certificate")
	// ErrDecrypt: the key did not recover the content-encryption key
	// (another key than the certificate's, or a damaged message).
	ErrDecrypt = errors.New("cms: the key does not decrypt the message")
	// ErrAuthentication: the content was changed after it was encrypted,
	// or cut short: what was read of it must be thrown away.
	ErrAuthentication = errors.New("cms: the encrypted content fails its integrity check")
	// ErrUnsupportedEncryption: an encryption this package does not read
	// (an ErrUnsupportedAlgorithm too).
	ErrUnsupportedEncryption = fmt.Errorf("%w (encryption)", ErrUnsupportedAlgorithm)
)

// RecipientError is a certificate that documents are not encrypted to:
// Reason is "key" (a key type or size that cannot receive) or "usage"
// (the certificate's key usage or purposes forbid encryption).
type RecipientError struct {
	Reason string
	Detail string
}

func (e *RecipientError) Error() string {
	return "cms: cannot encrypt to this certificate (" + e.Reason + "): " + e.Detail
}

// CheckRecipient says whether content can be encrypted to c: an RSA key
// of 2048 bits or more whose certificate allows keyEncipherment, or an
// EC key on P-256, P-384 or P-521 whose certificate allows keyAgreement
// (a certificate that states no key usage allows both), and the e-mail
// protection purpose when it states purposes. A signing-only
// certificate, a professional's signing certificate among them, is
// refused: the key that signs with legal effect does not decrypt.
func CheckRecipient(c *x509.Certificate) error {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return &RecipientError{"key", fmt.Sprintf("RSA %d bits", k.N.BitLen())}
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
			return &RecipientError{"usage", "the key usage lacks keyEncipherment"}
		}
	case *ecdsa.PublicKey:
		if _, err := ecdhCurve(k.Curve); err != nil {
			return &RecipientError{"key", k.Curve.Params().Name}
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageKeyAgreement == 0 {
			return &RecipientError{"usage", "the key usage lacks keyAgreement"}
		}
	default:
		return &RecipientError{"key", fmt.Sprintf("%T", c.PublicKey)}
	}
	if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return &RecipientError{"usage", "the extended key usage lacks emailProtection"}
	}
	return nil
}

func ecdhCurve(c elliptic.Curve) (ecdh.Curve, error) {
	switch c {
	case elliptic.P256():
		return ecdh.P256(), nil
	case elliptic.P384():
		return ecdh.P384(), nil
	case elliptic.P521():
		return ecdh.P521(), nil
	}
	return nil, fmt.Errorf("%w: curve %s", ErrUnsupportedEncryption, c.Params().Name)
}

// kdfHash is the X9.63 KDF's hash for a curve: as strong as the curve.
func kdfHash(c ecdh.Curve) Hash {
	switch c {
	case ecdh.P384():
		return SHA384
	case ecdh.P521():
		return SHA512
	}
	return SHA256
}

// x963KDF derives size bytes from the shared secret z (ANSI X9.63, as
// RFC 5753 section 7.2 uses it).
func x963KDF(h Hash, z, sharedInfo []byte, size int) []byte {
	var out []byte
	var counter [4]byte
	for i := uint32(1); len(out) < size; i++ {
		binary.BigEndian.PutUint32(counter[:], i)
		d := h.New()
		d.Write(z)
		d.Write(counter[:])
		d.Write(sharedInfo)
		out = d.Sum(out)
	}
	return out[:size]
}

// eccSharedInfo is ECC-CMS-SharedInfo: the wrap algorithm (as encoded in
// the message), the user keying material when any, and the KEK's size.
func eccSharedInfo(wrapAlg, ukm []byte, kekBits int) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(wrapAlg)
		if ukm != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(ukm)
			})
		}
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			var n [4]byte
			binary.BigEndian.PutUint32(n[:], uint32(kekBits))
			b.AddASN1OctetString(n[:])
		})
	})
	return b.BytesOrPanic()
}

func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, params func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if params != nil {
			params(b)
		}
	})
}

func addIssuerAndSerial(b *cryptobyte.Builder, c *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(c.RawIssuer)
		b.AddASN1BigInt(c.SerialNumber)
	})
}

// keyTransRecipient is a KeyTransRecipientInfo: cek under the
// certificate's RSA key with OAEP (SHA-256, MGF1 with SHA-256).
func keyTransRecipient(c *x509.Certificate, pub *rsa.PublicKey, cek []byte) ([]byte, error) {
	enc, err := rsa.EncryptOAEP(SHA256.New(), rand.Reader, pub, cek, nil)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		addIssuerAndSerial(b, c)
		addAlgorithm(b, oidRSAESOAEP, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					addAlgorithm(b, oidSHA256, nil)
				})
				b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					addAlgorithm(b, oidMGF1, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHA256, nil) })
				})
			})
		})
		b.AddASN1OctetString(enc)
	})
	return b.Bytes()
}

// keyAgreeRecipient is a KeyAgreeRecipientInfo: an ephemeral key on the
// certificate's curve, ECDH with its key, the X9.63 KDF, and cek wrapped
// with AES-256 under what it derives.
func keyAgreeRecipient(c *x509.Certificate, pub *ecdsa.PublicKey, cek []byte) ([]byte, error) {
	curve, err := ecdhCurve(pub.Curve)
	if err != nil {
		return nil, err
	}
	them, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	eph, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	z, err := eph.ECDH(them)
	if err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	var wb cryptobyte.Builder
	addAlgorithm(&wb, oidAES256Wrap, nil)
	wrapAlg := wb.BytesOrPanic()
	h := kdfHash(curve)
	wrapped, err := wrapKey(x963KDF(h, z, eccSharedInfo(wrapAlg, nil, 256), 32), cek)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				addAlgorithm(b, oidECPublicKey, nil)
				b.AddASN1BitString(eph.PublicKey().Bytes())
			})
		})
		addAlgorithm(b, ecdhSchemeFor[h], func(b *cryptobyte.Builder) { b.AddBytes(wrapAlg) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				addIssuerAndSerial(b, c)
				b.AddASN1OctetString(wrapped)
			})
		})
	})
	return b.Bytes()
}

// EncryptWriter writes a ContentInfo holding an AuthEnvelopedData, the
// content encrypted as it is written, in segments of a constructed
// encryptedContent and with BER's indefinite lengths, as streaming
// encoders write them; only a segment is held in memory.
type EncryptWriter struct {
	w   io.Writer
	g   *gcmStream
	seg segmenter
	err error
}

// Encrypt writes the opening of a message encrypted to recipients (each
// accepted by CheckRecipient) to w, up to where the content goes.
func Encrypt(w io.Writer, recipients ...*x509.Certificate) (*EncryptWriter, error) {
	if len(recipients) == 0 {
		return nil, errors.New("cms: no recipient to encrypt to")
	}
	cek, nonce := make([]byte, 32), make([]byte, 12)
	rand.Read(cek)
	rand.Read(nonce)
	var infos [][]byte
	for _, c := range recipients {
		if err := CheckRecipient(c); err != nil {
			return nil, err
		}
		var ri []byte
		var err error
		switch k := c.PublicKey.(type) {
		case *rsa.PublicKey:
			ri, err = keyTransRecipient(c, k, cek)
		case *ecdsa.PublicKey:
			ri, err = keyAgreeRecipient(c, k, cek)
		}
		if err != nil {
			return nil, err
		}
		infos = append(infos, ri)
	}
	g, err := newGCMStream(cek, nonce)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1Int64(0) // version
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		slices.SortFunc(infos, func(x, y []byte) int { return compareDER(x, y) }) // a SET OF, in DER's order
		for _, ri := range infos {
			b.AddBytes(ri)
		}
	})
	mid := b.BytesOrPanic()
	var alg cryptobyte.Builder
	addAlgorithm(&alg, oidAES256GCM, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(nonce)
			b.AddASN1Int64(16) // the tag's length (12 by default)
		})
	})
	var head []byte
	head = append(head, 0x30, 0x80) // ContentInfo
	head = append(head, mustMarshal(OIDAuthEnvelopedData)...)
	head = append(head, 0xa0, 0x80) // [0] EXPLICIT content
	head = append(head, 0x30, 0x80) // AuthEnvelopedData
	head = append(head, mid...)
	head = append(head, 0x30, 0x80) // authEncryptedContentInfo
	head = append(head, mustMarshal(OIDData)...)
	head = append(head, alg.BytesOrPanic()...)
	head = append(head, 0xa0, 0x80) // [0] IMPLICIT encryptedContent, constructed
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	return &EncryptWriter{w: w, g: g, seg: newSegmenter(w, func(b []byte) error { return g.seal(b, b) })}, nil
}

// compareDER orders encodings as DER sorts a SET OF: as octet strings,
// the shorter first where one is the other's beginning.
func compareDER(x, y []byte) int {
	for i := range min(len(x), len(y)) {
		if x[i] != y[i] {
			return int(x[i]) - int(y[i])
		}
	}
	return len(x) - len(y)
}

// Write encrypts p.
func (e *EncryptWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.seg.write(p)
	e.err = err
	return n, err
}

// Close writes the rest of the message: the end of the content and the
// authentication tag. It does not close the underlying writer.
func (e *EncryptWriter) Close() error {
	if e.err != nil {
		return e.err
	}
	if err := e.seg.close(); err != nil {
		return err
	}
	var tail []byte
	tail = append(tail, eoc...) // encryptedContent
	tail = append(tail, eoc...) // authEncryptedContentInfo
	tail = appendElement(tail, []byte{0x04}, e.g.tag())
	tail = append(tail, eoc...) // AuthEnvelopedData
	tail = append(tail, eoc...) // [0]
	tail = append(tail, eoc...) // ContentInfo
	e.err = errClosed
	_, err := e.w.Write(tail)
	return err
}
