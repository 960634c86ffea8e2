package cms

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// KeyAgreer is the private half of an EC key that agrees on a secret
// with a peer's public key (an *ecdh.PrivateKey, or a key on a token):
// what decrypts for a key agreement recipient. An RSA recipient's key is
// a crypto.Decrypter, asked for RSA-OAEP (*rsa.OAEPOptions).
type KeyAgreer interface {
	ECDH(peer *ecdh.PublicKey) ([]byte, error)
}

// RecipientID names a certificate a message is encrypted to: by issuer
// and serial number, or by subject key identifier.
type RecipientID struct {
	Issuer       []byte // the issuer's Name, DER
	Serial       *big.Int
	SubjectKeyID []byte
}

// Matches reports whether id names c.
func (id RecipientID) Matches(c *x509.Certificate) bool {
	if id.SubjectKeyID != nil {
		return bytes.Equal(id.SubjectKeyID, c.SubjectKeyId)
	}
	return id.Serial != nil && bytes.Equal(id.Issuer, c.RawIssuer) && id.Serial.Cmp(c.SerialNumber) == 0
}

// recipient is one way to the content-encryption key.
type recipient struct {
	id RecipientID
	// Key transport: the OAEP hashes and the encrypted key.
	oaep, mgf Hash
	encrypted []byte
	// Key agreement: the originator's public point, the user keying
	// material, the KDF's hash, the wrap algorithm as encoded.
	agree           bool
	point, ukm      []byte
	kdf             Hash
	wrapAlg         []byte
	wrapOID         asn1.ObjectIdentifier
	unsupportedWhat string // why it cannot be used, when it cannot
}

// EnvelopedReader reads an AuthEnvelopedData message as a stream:
// Recipients names who it is encrypted to; once Open is given the
// private key of one of them, Read gives the content as it is decrypted.
// The content read is authenticated only when Read returns io.EOF: on
// ErrAuthentication (a changed or truncated message) everything read
// must be thrown away, so write it somewhere provisional until then.
type EnvelopedReader struct {
	berReader
	recipients []recipient
	keySize    int
	nonce      []byte
	tagLen     int
	g          *gcmStream
	// left is what remains of the primitive segment being read;
	// contentAt the frames open inside the constructed encryptedContent
	// (-1 for a primitive one).
	left      int64
	contentAt int
	done      bool
	err       error
}

// ReadEnveloped reads the opening of a message from r, up to its
// encrypted content.
func ReadEnveloped(r io.Reader) (*EnvelopedReader, error) {
	e := &EnvelopedReader{berReader: berReader{r: bufio.NewReaderSize(r, 64<<10)}}
	if err := e.open(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *EnvelopedReader) open() error {
	if _, err := e.enter(0x30); err != nil {
		return ErrNotEnveloped
	}
	var ct asn1.ObjectIdentifier
	if err := e.readOID(&ct); err != nil {
		return ErrNotEnveloped
	}
	switch {
	case ct.Equal(OIDEnvelopedData):
		return fmt.Errorf("%w: EnvelopedData without integrity protection (AES-CBC) is not read; encrypt with AES-GCM (AuthEnvelopedData)", ErrUnsupportedEncryption)
	case !ct.Equal(OIDAuthEnvelopedData):
		return fmt.Errorf("%w: content type %s", ErrNotEnveloped, ct)
	}
	if _, err := e.enter(0xa0); err != nil {
		return fmt.Errorf("%w: no content", ErrEncoding)
	}
	if _, err := e.enter(0x30); err != nil {
		return fmt.Errorf("%w: AuthEnvelopedData", ErrEncoding)
	}
	if v, err := e.element(16); err != nil || !bytes.Equal(v, []byte{0x02, 0x01, 0x00}) {
		return fmt.Errorf("%w: AuthEnvelopedData version", ErrEncoding)
	}
	set, err := e.element(1 << 20)
	if err != nil {
		return err
	}
	if set[0] == 0xa0 { // originatorInfo: certificates for the recipients, not needed
		if set, err = e.element(1 << 20); err != nil {
			return err
		}
	}
	if err := e.parseRecipients(set); err != nil {
		return err
	}
	return e.openContent()
}

// openContent reads the encrypted content's type and algorithm, and
// enters the content.
func (e *EnvelopedReader) openContent() error {
	if _, err := e.enter(0x30); err != nil {
		return fmt.Errorf("%w: authEncryptedContentInfo", ErrEncoding)
	}
	var ct asn1.ObjectIdentifier
	if err := e.readOID(&ct); err != nil {
		return err
	}
	alg, err := e.element(1 << 10)
	if err != nil {
		return err
	}
	if err := e.parseContentAlgorithm(alg); err != nil {
		return err
	}
	if e.ended() {
		return fmt.Errorf("%w: no encrypted content (detached content is not read)", ErrEncoding)
	}
	tag, length, err := e.header()
	if err != nil {
		return err
	}
	switch tag {
	case 0x80: // [0] IMPLICIT, primitive
		e.left, e.contentAt = length, -1
		if length < 0 {
			return fmt.Errorf("%w: indefinite primitive", ErrEncoding)
		}
	case 0xa0: // [0] IMPLICIT, constructed: OCTET STRING segments
		e.push(length)
		e.contentAt = len(e.frames)
	default:
		return fmt.Errorf("%w: encrypted content tag %#x", ErrEncoding, tag)
	}
	return nil
}

func (e *EnvelopedReader) parseContentAlgorithm(alg []byte) error {
	der, err := toDER(alg)
	if err != nil {
		return err
	}
	s := cryptobyte.String(der)
	oid, params, err := readAlgorithm(&s)
	if err != nil {
		return err
	}
	switch {
	case oid.Equal(oidAES128GCM):
		e.keySize = 16
	case oid.Equal(oidAES192GCM):
		e.keySize = 24
	case oid.Equal(oidAES256GCM):
		e.keySize = 32
	default:
		return fmt.Errorf("%w: content encryption %s", ErrUnsupportedEncryption, oid)
	}
	p := cryptobyte.String(params)
	var seq cryptobyte.String
	tagLen := int64(12)
	if !p.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Bytes(&e.nonce, cbasn1.OCTET_STRING) ||
		seq.PeekASN1Tag(cbasn1.INTEGER) && !seq.ReadASN1Integer(&tagLen) || !seq.Empty() {
		return fmt.Errorf("%w: GCM parameters", ErrEncoding)
	}
	if len(e.nonce) != 12 || tagLen < 12 || tagLen > 16 {
		return fmt.Errorf("%w: GCM with a %d-byte nonce and a %d-byte tag", ErrUnsupportedEncryption, len(e.nonce), tagLen)
	}
	e.tagLen = int(tagLen)
	return nil
}

// Recipients are the certificates the message is encrypted to.
func (e *EnvelopedReader) Recipients() []RecipientID {
	var out []RecipientID
	for _, r := range e.recipients {
		out = append(out, r.id)
	}
	return out
}

// Open recovers the content-encryption key with key, the private key of
// cert (a crypto.Decrypter for RSA, a KeyAgreer for EC): ErrNotRecipient
// when the message is not encrypted to cert, ErrDecrypt when key does
// not recover it.
func (e *EnvelopedReader) Open(cert *x509.Certificate, key any) error {
	var why error = ErrNotRecipient
	for _, r := range e.recipients {
		if !r.id.Matches(cert) {
			continue
		}
		if r.unsupportedWhat != "" {
			why = fmt.Errorf("%w: %s", ErrUnsupportedEncryption, r.unsupportedWhat)
			continue
		}
		var cek []byte
		var err error
		if r.agree {
			cek, err = r.agreeKey(cert, key)
		} else {
			cek, err = r.transportedKey(key)
		}
		if err == nil && len(cek) != e.keySize {
			err = ErrDecrypt
		}
		if err != nil {
			why = err
			continue
		}
		e.g, err = newGCMStream(cek, e.nonce)
		return err
	}
	return why
}

func (r *recipient) transportedKey(key any) ([]byte, error) {
	d, ok := key.(crypto.Decrypter)
	if !ok {
		return nil, fmt.Errorf("%w: the key cannot decrypt (RSA)", ErrDecrypt)
	}
	if _, ok := d.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: not an RSA key", ErrDecrypt)
	}
	cek, err := d.Decrypt(rand.Reader, r.encrypted, &rsa.OAEPOptions{Hash: r.oaep.Crypto(), MGFHash: r.mgf.Crypto()})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return cek, nil
}

func (r *recipient) agreeKey(cert *x509.Certificate, key any) ([]byte, error) {
	ka, ok := key.(KeyAgreer)
	if !ok {
		return nil, fmt.Errorf("%w: the key cannot agree on a secret (EC)", ErrDecrypt)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an EC certificate", ErrDecrypt)
	}
	curve, err := ecdhCurve(pub.Curve)
	if err != nil {
		return nil, err
	}
	peer, err := curve.NewPublicKey(r.point)
	if err != nil {
		return nil, fmt.Errorf("%w: the originator's key: %w", ErrEncoding, err)
	}
	z, err := ka.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	kekSize := map[string]int{oidAES128Wrap.String(): 16, oidAES192Wrap.String(): 24, oidAES256Wrap.String(): 32}[r.wrapOID.String()]
	kek := x963KDF(r.kdf, z, eccSharedInfo(r.wrapAlg, r.ukm, 8*kekSize), kekSize)
	cek, err := unwrapKey(kek, r.encrypted)
	if err != nil {
		return nil, ErrDecrypt
	}
	return cek, nil
}

// Read reads the decrypted content; io.EOF comes only once its
// authentication tag is checked.
func (e *EnvelopedReader) Read(p []byte) (int, error) {
	if e.g == nil {
		return 0, fmt.Errorf("%w: no key given (Open)", ErrDecrypt)
	}
	for e.left == 0 {
		if e.err != nil {
			return 0, e.err
		}
		if e.done {
			return 0, io.EOF
		}
		if e.err = e.nextSegment(); e.err != nil {
			if e.err == io.EOF {
				e.err = e.finish()
			}
			if e.err == io.EOF {
				e.done = true
			}
		}
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := io.ReadFull(e.r, p)
	e.pos += int64(n)
	e.left -= int64(n)
	if gerr := e.g.open(p[:n], p[:n]); gerr != nil {
		e.err = gerr
		return 0, gerr
	}
	if err != nil {
		e.err = fmt.Errorf("%w: truncated", ErrAuthentication)
		return n, e.err
	}
	return n, nil
}

// nextSegment moves to the next segment of the content, or returns
// io.EOF at its end.
func (e *EnvelopedReader) nextSegment() error {
	if e.contentAt < 0 {
		return io.EOF // the primitive content is read
	}
	for {
		if e.ended() {
			closing := len(e.frames)
			if err := e.leave(); err != nil {
				return err
			}
			if closing == e.contentAt {
				return io.EOF
			}
			continue
		}
		if len(e.frames) > e.contentAt+maxDepth {
			return fmt.Errorf("%w: nested too deeply", ErrEncoding)
		}
		tag, length, err := e.header()
		if err != nil {
			return err
		}
		switch tag {
		case 0x04:
			if e.left = length; length > 0 {
				return nil
			}
		case 0x24:
			e.push(length)
		default:
			return fmt.Errorf("%w: the encrypted content is not made of OCTET STRINGs", ErrEncoding)
		}
	}
}

// finish reads what follows the content, checks the tag, and returns
// io.EOF when it is right.
func (e *EnvelopedReader) finish() error {
	if !e.ended() {
		return fmt.Errorf("%w: data after the encrypted content", ErrEncoding)
	}
	if err := e.leave(); err != nil { // authEncryptedContentInfo
		return err
	}
	el, err := e.element(1 << 16)
	if err != nil {
		return fmt.Errorf("%w: no authentication tag", ErrAuthentication)
	}
	if el[0] == 0xa1 {
		return fmt.Errorf("%w: authenticated attributes are not read", ErrUnsupportedEncryption)
	}
	mac, ok := primitiveContent(el, 0x04)
	if !ok || len(mac) != e.tagLen {
		return fmt.Errorf("%w: the authentication tag", ErrAuthentication)
	}
	// In constant time: the tag of a changed message is what a forger
	// wants, and a comparison that stops at the first wrong byte would
	// give it away a byte at a time to whoever can time the refusals.
	if !e.g.check(mac) {
		return ErrAuthentication
	}
	for !e.ended() { // unauthenticated attributes
		if _, err := e.element(1 << 20); err != nil {
			return err
		}
	}
	for range 3 { // AuthEnvelopedData, [0], ContentInfo
		if err := e.leave(); err != nil {
			return err
		}
	}
	return io.EOF
}

// parseRecipients reads the RecipientInfos: key transport (RSA) and key
// agreement (ECDH) ones; others (KEK, password) are left out.
func (e *EnvelopedReader) parseRecipients(set []byte) error {
	der, err := toDER(set)
	if err != nil {
		return err
	}
	s := cryptobyte.String(der)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SET) {
		return fmt.Errorf("%w: recipient infos", ErrEncoding)
	}
	for !body.Empty() {
		var ri cryptobyte.String
		var tag cbasn1.Tag
		if !body.ReadAnyASN1(&ri, &tag) {
			return fmt.Errorf("%w: recipient info", ErrEncoding)
		}
		switch tag {
		case cbasn1.SEQUENCE:
			r, err := parseKeyTrans(ri)
			if err != nil {
				return err
			}
			e.recipients = append(e.recipients, r)
		case cbasn1.Tag(1).Constructed().ContextSpecific():
			rs, err := parseKeyAgree(ri)
			if err != nil {
				return err
			}
			e.recipients = append(e.recipients, rs...)
		}
	}
	return nil
}

// readRecipientID reads an IssuerAndSerialNumber, or a [0] subject key
// identifier (implicit: an OCTET STRING for key transport, a
// RecipientKeyIdentifier SEQUENCE for key agreement).
func readRecipientID(s *cryptobyte.String, agree bool) (RecipientID, bool) {
	var id RecipientID
	if s.PeekASN1Tag(cbasn1.SEQUENCE) {
		var ias, issuer cryptobyte.String
		id.Serial = new(big.Int)
		if !s.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !ias.ReadASN1Integer(id.Serial) {
			return id, false
		}
		id.Issuer = issuer
		return id, true
	}
	if !agree {
		var ski []byte
		ok := s.ReadASN1Bytes(&ski, cbasn1.Tag(0).ContextSpecific())
		id.SubjectKeyID = ski
		return id, ok && ski != nil
	}
	var rki cryptobyte.String
	var ski []byte
	if !s.ReadASN1(&rki, cbasn1.Tag(0).Constructed().ContextSpecific()) || !rki.ReadASN1Bytes(&ski, cbasn1.OCTET_STRING) {
		return id, false
	}
	id.SubjectKeyID = ski
	return id, ski != nil
}

func parseKeyTrans(ri cryptobyte.String) (recipient, error) {
	var r recipient
	var version int64
	bad := fmt.Errorf("%w: key transport recipient", ErrEncoding)
	if !ri.ReadASN1Integer(&version) {
		return r, bad
	}
	id, ok := readRecipientID(&ri, false)
	if !ok {
		return r, bad
	}
	r.id = id
	oid, params, err := readAlgorithm(&ri)
	if err != nil || !ri.ReadASN1Bytes(&r.encrypted, cbasn1.OCTET_STRING) {
		return r, bad
	}
	if !oid.Equal(oidRSAESOAEP) {
		r.unsupportedWhat = "key transport " + oid.String() + " (only RSA-OAEP is read)"
		return r, nil
	}
	r.oaep, r.mgf, err = parseOAEP(params)
	if err != nil {
		r.unsupportedWhat = err.Error()
	}
	return r, nil
}

// parseOAEP reads RSAES-OAEP-params (RFC 4055): SHA-1 where left out, no
// label.
func parseOAEP(params []byte) (oaep, mgf Hash, err error) {
	oaep, mgf = SHA1, SHA1
	if len(params) == 0 || bytes.Equal(params, []byte{0x05, 0x00}) {
		return oaep, mgf, nil
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return oaep, mgf, fmt.Errorf("OAEP parameters")
	}
	var hf, mf cryptobyte.String
	var hasHF, hasMF, hasP bool
	if !seq.ReadOptionalASN1(&hf, &hasHF, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&mf, &hasMF, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(nil, &hasP, cbasn1.Tag(2).Constructed().ContextSpecific()) {
		return oaep, mgf, fmt.Errorf("OAEP parameters")
	}
	if hasP {
		return oaep, mgf, fmt.Errorf("OAEP with a label")
	}
	if hasHF {
		oid, _, err := readAlgorithm(&hf)
		h, ok := HashByOID(oid)
		if err != nil || !ok {
			return oaep, mgf, fmt.Errorf("OAEP hash %s", oid)
		}
		oaep = h
	}
	if hasMF {
		oid, p, err := readAlgorithm(&mf)
		if err != nil || !oid.Equal(oidMGF1) {
			return oaep, mgf, fmt.Errorf("OAEP mask %s", oid)
		}
		ps := cryptobyte.String(p)
		hoid, _, err := readAlgorithm(&ps)
		h, ok := HashByOID(hoid)
		if err != nil || !ok {
			return oaep, mgf, fmt.Errorf("MGF1 hash %s", hoid)
		}
		mgf = h
	}
	return oaep, mgf, nil
}

func parseKeyAgree(ri cryptobyte.String) ([]recipient, error) {
	bad := fmt.Errorf("%w: key agreement recipient", ErrEncoding)
	var version int64
	var orig, origKey, alg cryptobyte.String
	if !ri.ReadASN1Integer(&version) || !ri.ReadASN1(&orig, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad
	}
	var base recipient
	base.agree = true
	if !orig.ReadASN1(&origKey, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		base.unsupportedWhat = "static-static key agreement (the originator names a certificate)"
	} else {
		oid, _, err := readAlgorithm(&origKey)
		var point asn1.BitString
		if err != nil || !oid.Equal(oidECPublicKey) || !origKey.ReadASN1BitString(&point) {
			return nil, bad
		}
		base.point = point.RightAlign()
	}
	var ukm cryptobyte.String
	var hasUKM bool
	if !ri.ReadOptionalASN1(&ukm, &hasUKM, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, bad
	}
	if hasUKM && !ukm.ReadASN1Bytes(&base.ukm, cbasn1.OCTET_STRING) {
		return nil, bad
	}
	if !ri.ReadASN1(&alg, cbasn1.SEQUENCE) {
		return nil, bad
	}
	if err := base.parseAgreement(alg); err != nil {
		return nil, err
	}
	var keys cryptobyte.String
	if !ri.ReadASN1(&keys, cbasn1.SEQUENCE) {
		return nil, bad
	}
	var out []recipient
	for !keys.Empty() {
		var rek cryptobyte.String
		if !keys.ReadASN1(&rek, cbasn1.SEQUENCE) {
			return nil, bad
		}
		r := base
		id, ok := readRecipientID(&rek, true)
		if !ok || !rek.ReadASN1Bytes(&r.encrypted, cbasn1.OCTET_STRING) {
			return nil, bad
		}
		r.id = id
		out = append(out, r)
	}
	return out, nil
}

// parseAgreement reads the key agreement's algorithm: an ECDH scheme
// (its KDF's hash) whose parameters are the key wrap algorithm.
func (r *recipient) parseAgreement(alg cryptobyte.String) error {
	var oid asn1.ObjectIdentifier
	var wrap cryptobyte.String
	if !alg.ReadASN1ObjectIdentifier(&oid) || !alg.ReadASN1Element(&wrap, cbasn1.SEQUENCE) {
		return fmt.Errorf("%w: key agreement algorithm", ErrEncoding)
	}
	h, ok := ecdhSchemes[oid.String()]
	if !ok {
		r.unsupportedWhat = "key agreement " + oid.String() + " (only ephemeral-static ECDH is read)"
		return nil
	}
	r.kdf, r.wrapAlg = h, wrap
	w := cryptobyte.String(wrap)
	var ws cryptobyte.String
	if !w.ReadASN1(&ws, cbasn1.SEQUENCE) || !ws.ReadASN1ObjectIdentifier(&r.wrapOID) {
		return fmt.Errorf("%w: key wrap algorithm", ErrEncoding)
	}
	if !r.wrapOID.Equal(oidAES128Wrap) && !r.wrapOID.Equal(oidAES192Wrap) && !r.wrapOID.Equal(oidAES256Wrap) {
		r.unsupportedWhat = "key wrap " + r.wrapOID.String()
	}
	return nil
}
