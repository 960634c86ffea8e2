package cos

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4" //nolint:staticcheck // PDF's standard security handler, revisions 2-4
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ErrPassword is returned when the password given does not open an
// encrypted document (the empty password opens most signed ones: they are
// encrypted to restrict changes, not to hide their content).
var ErrPassword = errors.New("cos: the password does not open the document")

// OpenDecrypted is Open for documents protected by the standard security
// handler (ISO 32000-2 §7.6.4: RC4 and AES-128, revisions 2-4; AES-256,
// revisions 5 and 6): objects come out decrypted, except what the standard
// leaves in clear (the cross-reference streams, the /Encrypt dictionary,
// the /Contents of signature dictionaries). A document that is not
// encrypted opens as with Open.
func OpenDecrypted(r io.ReaderAt, size int64, password []byte) (*File, error) {
	f, err := open(r, size)
	if err != nil {
		return nil, err
	}
	if f.Trailer["Encrypt"] == nil {
		return f, nil
	}
	f.encryptRef, _ = f.Trailer["Encrypt"].(Ref)
	enc, err := f.ResolveDict(f.Trailer["Encrypt"])
	if err != nil || enc == nil {
		return nil, fmt.Errorf("%w: unreadable /Encrypt", ErrSyntax)
	}
	var id0 []byte
	if ids, ok := f.Trailer["ID"].(Array); ok && len(ids) > 0 {
		id0 = str(ids[0])
	}
	c, err := newCrypt(enc, id0, password)
	if err != nil {
		return nil, err
	}
	f.crypt, f.password = c, append([]byte{}, password...)
	return f, nil
}

// OpenRevision opens the first size bytes of r (an earlier revision of
// the same document) as f was opened: decrypted with the same password
// when f is encrypted.
func (f *File) OpenRevision(r io.ReaderAt, size int64) (*File, error) {
	if f.crypt != nil {
		return OpenDecrypted(r, size, f.password)
	}
	return Open(r, size)
}

// Revision opens the first size bytes of the file f reads (an earlier
// revision), as OpenRevision does.
func (f *File) Revision(size int64) (*File, error) {
	return f.OpenRevision(io.NewSectionReader(f.r, 0, size), size)
}

// ErrUnsupportedEncryption is returned for a security handler other than
// the standard one, or a revision of it not implemented.
var ErrUnsupportedEncryption = errors.New("cos: unsupported encryption")

type cryptMethod int

const (
	methodNone cryptMethod = iota
	methodRC4
	methodAES128
	methodAES256
)

// crypt decrypts a document's strings and streams.
type crypt struct {
	key             []byte
	rev             int
	strings, stream cryptMethod
	encryptMetadata bool
	perms           Permissions
}

// Permissions is what an encrypted document allows (its /P, ISO 32000-2
// §7.6.4.2 table 22), and whether it was opened with the owner password,
// which lifts every restriction.
type Permissions struct {
	P        uint32 // bit n of table 22 is 1<<(n-1)
	Revision int    // of the standard security handler
	Owner    bool
}

// Allows reports whether bit n of table 22 (numbered from 1, as the table
// does) grants its permission, or the owner password opened the document.
func (p Permissions) Allows(bit int) bool { return p.Owner || p.P&(1<<(bit-1)) != 0 }

// Permissions says what the password that opened f allows; ok is false
// for a document that is not encrypted.
func (f *File) Permissions() (p Permissions, ok bool) {
	if f.crypt == nil {
		return Permissions{}, false
	}
	return f.crypt.perms, true
}

func str(o Object) []byte {
	switch v := o.(type) {
	case String:
		return v
	case HexString:
		return v
	}
	return nil
}

// padding is the 32 bytes passwords are padded with (Algorithm 2).
var padding = []byte{0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
	0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A}

func newCrypt(enc Dict, id0, password []byte) (*crypt, error) {
	if enc["Filter"] != Name("Standard") {
		return nil, fmt.Errorf("%w: security handler %v", ErrUnsupportedEncryption, enc["Filter"])
	}
	v, _ := Int(enc["V"])
	r, _ := Int(enc["R"])
	c := &crypt{rev: int(r), encryptMetadata: enc["EncryptMetadata"] != false}
	switch v {
	case 1, 2:
		c.strings, c.stream = methodRC4, methodRC4
	case 4, 5:
		cf, _ := enc["CF"].(Dict)
		method := func(name Object) cryptMethod {
			if name == Name("Identity") || name == nil {
				return methodNone
			}
			n, _ := name.(Name)
			d, _ := cf[n].(Dict)
			switch d["CFM"] {
			case Name("V2"):
				return methodRC4
			case Name("AESV2"):
				return methodAES128
			case Name("AESV3"):
				return methodAES256
			}
			return methodNone
		}
		c.strings, c.stream = method(enc["StrF"]), method(enc["StmF"])
	default:
		return nil, fmt.Errorf("%w: /V %d", ErrUnsupportedEncryption, v)
	}
	p, _ := Int(enc["P"])
	c.perms = Permissions{P: uint32(p), Revision: int(r)}
	o, u := str(enc["O"]), str(enc["U"])
	switch r {
	case 2, 3, 4:
		if len(o) < 32 || len(u) < 16 {
			return nil, fmt.Errorf("%w: bad /O or /U", ErrSyntax)
		}
		length := int64(40)
		if v >= 2 {
			if l, ok := Int(enc["Length"]); ok {
				length = l
			} else {
				length = 128
			}
		}
		if length < 40 || length > 128 || length%8 != 0 {
			return nil, fmt.Errorf("%w: key length %d", ErrUnsupportedEncryption, length)
		}
		n := int(length / 8)
		if !c.legacyOpen(password, o[:32], u, id0, uint32(p), n) {
			// Passwords of these revisions are PDFDocEncoding (§7.6.4.3.1),
			// as Acrobat and qpdf write them: what was typed is UTF-8.
			latin, ok := pdfDocEncoding(password)
			if !ok || !c.legacyOpen(latin, o[:32], u, id0, uint32(p), n) {
				return nil, ErrPassword
			}
		}
	case 5, 6:
		ue, oe := str(enc["UE"]), str(enc["OE"])
		if len(u) < 48 || len(ue) < 32 {
			return nil, fmt.Errorf("%w: bad /U or /UE", ErrSyntax)
		}
		if len(password) > 127 {
			password = password[:127]
		}
		var ik, wrapped []byte
		switch {
		case len(o) >= 48 && len(oe) >= 32 && bytes.Equal(hash2B(password, o[32:40], u[:48], int(r)), o[:32]):
			// The owner password (Algorithm 2.A, steps b and c).
			c.perms.Owner = true
			ik, wrapped = hash2B(password, o[40:48], u[:48], int(r)), oe[:32]
		case bytes.Equal(hash2B(password, u[32:40], nil, int(r)), u[:32]):
			ik, wrapped = hash2B(password, u[40:48], nil, int(r)), ue[:32]
		default:
			return nil, ErrPassword
		}
		block, _ := aes.NewCipher(ik)
		c.key = make([]byte, 32)
		cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(c.key, wrapped)
		c.checkPerms(str(enc["Perms"]))
	default:
		return nil, fmt.Errorf("%w: revision %d", ErrUnsupportedEncryption, r)
	}
	return c, nil
}

// checkPerms is Algorithm 13: for revisions 5 and 6, /P is not part of the
// key, so /Perms holds a copy of it encrypted with the key. Permissions
// that do not match it were changed by someone without the key: none is
// granted then (the owner password still opens with all of them).
func (c *crypt) checkPerms(perms []byte) {
	if len(perms) >= 16 {
		block, _ := aes.NewCipher(c.key)
		plain := make([]byte, 16)
		block.Decrypt(plain, perms[:16])
		if string(plain[9:12]) == "adb" && binary.LittleEndian.Uint32(plain) == c.perms.P {
			return
		}
	}
	c.perms.P = 0
}

// legacyOpen sets the key from password, the owner password first
// (Algorithm 7: it opens with every permission, also where it is the user
// password too), then the user password (Algorithm 6).
func (c *crypt) legacyOpen(password, o, u, id0 []byte, p uint32, n int) bool {
	user := legacyUserPassword(password, o, c.rev, n)
	c.key = legacyKey(user, o, p, id0, c.rev, n, c.encryptMetadata)
	if c.legacyUserOK(u, id0) {
		c.perms.Owner = true
		return true
	}
	c.key = legacyKey(password, o, p, id0, c.rev, n, c.encryptMetadata)
	return c.legacyUserOK(u, id0)
}

// pdfDocEncoding is the UTF-8 text s in PDFDocEncoding (ISO 32000-2
// annex D.2); ok is false when s is plain ASCII (the same bytes) or holds
// a character the encoding lacks.
func pdfDocEncoding(s []byte) (out []byte, ok bool) {
	if !utf8.Valid(s) {
		return nil, false
	}
	for _, r := range string(s) {
		switch b, found := pdfDocSpecial[r]; {
		case r < 0x80:
			out = append(out, byte(r))
		case found:
			out = append(out, b)
			ok = true
		case r >= 0xA1 && r <= 0xFF && r != 0xAD:
			out = append(out, byte(r))
			ok = true
		default:
			return nil, false
		}
	}
	return out, ok
}

// pdfDocSpecial is where PDFDocEncoding differs from Latin-1 above 0x7F.
var pdfDocSpecial = map[rune]byte{
	'•': 0x80, '†': 0x81, '‡': 0x82, '…': 0x83, '—': 0x84, '–': 0x85, 'ƒ': 0x86, '⁄': 0x87,
	'‹': 0x88, '›': 0x89, '−': 0x8A, '‰': 0x8B, '„': 0x8C, '“': 0x8D, '”': 0x8E, '‘': 0x8F,
	'’': 0x90, '‚': 0x91, '™': 0x92, 'ﬁ': 0x93, 'ﬂ': 0x94, 'Ł': 0x95, 'Œ': 0x96, 'Š': 0x97,
	'Ÿ': 0x98, 'Ž': 0x99, 'ı': 0x9A, 'ł': 0x9B, 'œ': 0x9C, 'š': 0x9D, 'ž': 0x9E, '€': 0xA0,
}

// legacyUserPassword is Algorithm 7, steps a and b: the (padded) user
// password, as the owner password given decrypts it from /O.
func legacyUserPassword(owner, o []byte, rev, n int) []byte {
	sum := md5.Sum(append(append([]byte{}, owner...), padding...)[:32])
	key := sum[:]
	if rev >= 3 {
		for range 50 {
			s := md5.Sum(key)
			key = s[:]
		}
	}
	key = key[:n]
	user := append([]byte{}, o...)
	if rev == 2 {
		rc, _ := rc4.NewCipher(key)
		rc.XORKeyStream(user, user)
		return user
	}
	k := make([]byte, n)
	for i := 19; i >= 0; i-- {
		for j := range k {
			k[j] = key[j] ^ byte(i)
		}
		rc, _ := rc4.NewCipher(k)
		rc.XORKeyStream(user, user)
	}
	return user
}

// legacyKey is Algorithm 2 (ISO 32000-2 §7.6.4.3.2).
func legacyKey(password, o []byte, p uint32, id0 []byte, rev, n int, encryptMetadata bool) []byte {
	pw := append(append([]byte{}, password...), padding...)[:32]
	h := md5.New()
	h.Write(pw)
	h.Write(o)
	h.Write([]byte{byte(p), byte(p >> 8), byte(p >> 16), byte(p >> 24)})
	h.Write(id0)
	if rev >= 4 && !encryptMetadata {
		h.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	key := h.Sum(nil)
	if rev >= 3 {
		for range 50 {
			s := md5.Sum(key[:n])
			key = s[:]
		}
	}
	return key[:n]
}

// legacyUserOK checks the key against /U (Algorithms 4 and 5).
func (c *crypt) legacyUserOK(u, id0 []byte) bool {
	if c.rev == 2 {
		out := make([]byte, 32)
		rc, _ := rc4.NewCipher(c.key)
		rc.XORKeyStream(out, padding)
		return bytes.Equal(out, u[:32])
	}
	h := md5.New()
	h.Write(padding)
	h.Write(id0)
	x := h.Sum(nil)
	for i := range 20 {
		k := make([]byte, len(c.key))
		for j := range k {
			k[j] = c.key[j] ^ byte(i)
		}
		rc, _ := rc4.NewCipher(k)
		rc.XORKeyStream(x, x)
	}
	return bytes.Equal(x[:16], u[:16])
}

// hash2B is Algorithm 2.B (revision 6), or plain SHA-256 for revision 5.
func hash2B(password, salt, udata []byte, rev int) []byte {
	h := sha256.New()
	h.Write(password)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if rev == 5 {
		return k
	}
	for rounds := 1; ; rounds++ {
		var k1 []byte
		for range 64 {
			k1 = append(append(append(k1, password...), k...), udata...)
		}
		block, _ := aes.NewCipher(k[:16])
		e := make([]byte, len(k1))
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
		sum := 0
		for _, b := range e[:16] {
			sum += int(b)
		}
		switch sum % 3 {
		case 0:
			s := sha256.Sum256(e)
			k = s[:]
		case 1:
			s := sha512.Sum384(e)
			k = s[:]
		default:
			s := sha512.Sum512(e)
			k = s[:]
		}
		// Steps e and f: 64 rounds at least, then until the last byte of
		// E is at most the number of rounds done less 32 (as qpdf and
		// pdf.js count them).
		if rounds >= 64 && int(e[len(e)-1]) <= rounds-32 {
			break
		}
	}
	return k[:32]
}

// objectKey is the key of object ref's strings and streams (Algorithm 1;
// AES-256 uses the file key itself).
func (c *crypt) objectKey(ref Ref, m cryptMethod) []byte {
	if m != methodRC4 && m != methodAES128 {
		return c.key
	}
	h := md5.New()
	h.Write(c.key)
	h.Write([]byte{byte(ref.Num), byte(ref.Num >> 8), byte(ref.Num >> 16), byte(ref.Gen), byte(ref.Gen >> 8)})
	if m == methodAES128 {
		h.Write([]byte("sAlT"))
	}
	return h.Sum(nil)[:min(len(c.key)+5, 16)]
}

// decrypt decrypts data of object ref with method m.
func (c *crypt) decrypt(ref Ref, data []byte, m cryptMethod) []byte {
	key := c.objectKey(ref, m)
	switch m {
	case methodRC4:
		return rc4XOR(key, data)
	case methodAES128, methodAES256:
		if len(data) < 32 || len(data)%16 != 0 {
			return data[:0]
		}
		block, _ := aes.NewCipher(key)
		out := make([]byte, len(data)-16)
		cipher.NewCBCDecrypter(block, data[:16]).CryptBlocks(out, data[16:])
		if n := int(out[len(out)-1]); n >= 1 && n <= 16 && n <= len(out) {
			out = out[:len(out)-n]
		}
		return out
	}
	return data
}

// rc4XOR is data through RC4 with key, which encrypts and decrypts alike.
func rc4XOR(key, data []byte) []byte {
	out := make([]byte, len(data))
	rc, _ := rc4.NewCipher(key)
	rc.XORKeyStream(out, data)
	return out
}

// encrypt encrypts data of object ref with method m: AES with a random
// initialisation vector before the data, and the padding of RFC 8018
// §6.1.1 (ISO 32000-2 §7.6.3).
func (c *crypt) encrypt(ref Ref, data []byte, m cryptMethod) []byte {
	key := c.objectKey(ref, m)
	switch m {
	case methodRC4:
		return rc4XOR(key, data)
	case methodAES128, methodAES256:
		n := 16 - len(data)%16
		out := make([]byte, 16+len(data)+n)
		rand.Read(out[:16])
		copy(out[16:], data)
		for i := 16 + len(data); i < len(out); i++ {
			out[i] = byte(n)
		}
		block, _ := aes.NewCipher(key)
		cipher.NewCBCEncrypter(block, out[:16]).CryptBlocks(out[16:], out[16:])
		return out
	}
	return append([]byte{}, data...)
}

// decryptObject decrypts the strings of object ref, and marks its stream
// for decryption.
func (c *crypt) decryptObject(o Object, ref Ref) Object {
	return c.mapStrings(o, func(b []byte) []byte { return c.decrypt(ref, b, c.strings) }, func(s *Stream) *Stream {
		if c.streamEncrypted(s.Dict) {
			s.decrypt = func(b []byte) []byte { return c.decrypt(ref, b, c.stream) }
		}
		return s
	})
}

// Encrypt returns o as it is to be written as object ref of f, encrypted as
// f is (ISO 32000-2 §7.6.2): its strings, and the data (Raw) of a stream,
// except what the standard leaves in clear (see OpenDecrypted). o itself
// is not changed; a Raw value (a placeholder) is written as it is. For a
// document that is not encrypted, o comes back as it is.
func (f *File) Encrypt(o Object, ref Ref) Object {
	c := f.crypt
	if c == nil || (ref.Num == f.encryptRef.Num && f.encryptRef.Num != 0) {
		return o
	}
	return c.encryptObject(o, ref)
}

func (c *crypt) encryptObject(o Object, ref Ref) Object {
	return c.mapStrings(o, func(b []byte) []byte { return c.encrypt(ref, b, c.strings) }, func(s *Stream) *Stream {
		if c.streamEncrypted(s.Dict) && s.Raw != nil {
			s.Raw = c.encrypt(ref, s.Raw, c.stream)
		}
		return s
	})
}

// mapStrings returns a copy of o with every string passed through code,
// except a signature dictionary's /Contents: the standard does not encrypt
// it, so that the signature covers plain bytes. A stream's copy (its
// dictionary mapped) is handed to stream.
func (c *crypt) mapStrings(o Object, code func([]byte) []byte, stream func(*Stream) *Stream) Object {
	var walk func(o Object, depth int) Object
	walk = func(o Object, depth int) Object {
		if depth > 64 {
			return o
		}
		switch v := o.(type) {
		case String:
			return String(code(v))
		case HexString:
			return HexString(code(v))
		case Array:
			out := make(Array, len(v))
			for i, x := range v {
				out[i] = walk(x, depth+1)
			}
			return out
		case Dict:
			out := make(Dict, len(v))
			sig := v["ByteRange"] != nil
			for k, x := range v {
				if sig && k == "Contents" {
					out[k] = x
					continue
				}
				out[k] = walk(x, depth+1)
			}
			return out
		case *Stream:
			return stream(&Stream{Dict: walk(v.Dict, depth+1).(Dict), Offset: v.Offset, Raw: v.Raw})
		}
		return o
	}
	return walk(o, 0)
}

// streamEncrypted reports whether a stream's data is encrypted: not a
// cross-reference stream, nor metadata the document leaves in clear
// (/EncryptMetadata false), nor one whose Crypt filter opts out.
func (c *crypt) streamEncrypted(d Dict) bool {
	return d["Type"] != Name("XRef") && (c.encryptMetadata || d["Type"] != Name("Metadata")) && !identityFilter(d)
}

// identityFilter reports a stream that opts out of encryption with the
// Crypt filter's Identity.
func identityFilter(d Dict) bool {
	a, ok := d["Filter"].(Array)
	if !ok || len(a) == 0 || a[0] != Name("Crypt") {
		return d["Filter"] == Name("Crypt")
	}
	return true
}

// Protection encrypts a new file with the standard security handler's
// strongest method: AES-256, revision 6 (ISO 32000-2 §7.6.4.4, algorithms
// 8 to 10), a random file key.
type Protection struct {
	c    *crypt
	dict Dict
}

// NewProtection makes the /Encrypt dictionary and key for a file that
// user opens, and owner opens with every permission; p is /P (table 22
// bits; the reserved ones are set here as the standard asks). Passwords
// longer than 127 bytes are cut there, as readers cut them.
func NewProtection(user, owner []byte, p uint32) (*Protection, error) {
	user, owner = user[:min(len(user), 127)], owner[:min(len(owner), 127)]
	key := make([]byte, 32)
	salts := make([]byte, 32) // user validation, user key, owner validation, owner key
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if _, err := rand.Read(salts); err != nil {
		return nil, err
	}
	wrap := func(k []byte) []byte { // AES-256, CBC with a zero IV, no padding
		block, _ := aes.NewCipher(k)
		out := make([]byte, 32)
		cipher.NewCBCEncrypter(block, make([]byte, 16)).CryptBlocks(out, key)
		return out
	}
	// Algorithm 8: /U and /UE.
	u := append(hash2B(user, salts[0:8], nil, 6), salts[0:16]...)
	ue := wrap(hash2B(user, salts[8:16], nil, 6))
	// Algorithm 9: /O and /OE, over the 48 bytes of /U.
	o := append(hash2B(owner, salts[16:24], u, 6), salts[16:32]...)
	oe := wrap(hash2B(owner, salts[24:32], u, 6))
	// Algorithm 10: /Perms, /P kept encrypted with the key.
	p |= 0xFFFFF0C0 // bits 7, 8 and 13–32 are 1; 1 and 2 are 0
	p &^= 3
	perms := make([]byte, 16)
	binary.LittleEndian.PutUint32(perms, p)
	copy(perms[4:], []byte{0xFF, 0xFF, 0xFF, 0xFF, 'T', 'a', 'd', 'b'})
	if _, err := rand.Read(perms[12:]); err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(key)
	block.Encrypt(perms, perms)
	dict := Dict{
		"Filter": Name("Standard"), "V": int64(5), "R": int64(6), "Length": int64(256),
		"CF":   Dict{"StdCF": Dict{"AuthEvent": Name("DocOpen"), "CFM": Name("AESV3"), "Length": int64(32)}},
		"StmF": Name("StdCF"), "StrF": Name("StdCF"),
		"U": String(u), "UE": String(ue), "O": String(o), "OE": String(oe),
		"P": int64(int32(p)), "Perms": String(perms), "EncryptMetadata": true,
	}
	c := &crypt{key: key, rev: 6, strings: methodAES256, stream: methodAES256, encryptMetadata: true,
		perms: Permissions{P: p, Revision: 6}}
	return &Protection{c: c, dict: dict}, nil
}

// Dict is the /Encrypt dictionary, to be written unencrypted.
func (p *Protection) Dict() Dict { return p.dict }

// Encrypt returns object ref encrypted (as File.Encrypt does).
func (p *Protection) Encrypt(o Object, ref Ref) Object { return p.c.encryptObject(o, ref) }
