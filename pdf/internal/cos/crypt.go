package cos

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4" //nolint:staticcheck // PDF's standard security handler, revisions 2-4
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
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
			d, _ := cf[name.(Name)].(Dict)
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
		p, _ := Int(enc["P"])
		c.key = legacyKey(password, o[:32], uint32(p), id0, int(r), int(length/8), c.encryptMetadata)
		if !c.legacyUserOK(u, id0) {
			return nil, ErrPassword
		}
	case 5, 6:
		ue := str(enc["UE"])
		if len(u) < 48 || len(ue) < 32 {
			return nil, fmt.Errorf("%w: bad /U or /UE", ErrSyntax)
		}
		if len(password) > 127 {
			password = password[:127]
		}
		if !bytes.Equal(hash2B(password, u[32:40], nil, int(r)), u[:32]) {
			return nil, ErrPassword
		}
		ik := hash2B(password, u[40:48], nil, int(r))
		block, _ := aes.NewCipher(ik)
		c.key = make([]byte, 32)
		cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(c.key, ue[:32])
	default:
		return nil, fmt.Errorf("%w: revision %d", ErrUnsupportedEncryption, r)
	}
	return c, nil
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
	for round := 0; ; round++ {
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
		if round >= 63 && int(e[len(e)-1]) <= round-32 {
			break
		}
	}
	return k[:32]
}

// decrypt decrypts data of object ref with method m.
func (c *crypt) decrypt(ref Ref, data []byte, m cryptMethod) []byte {
	key := c.key
	if m == methodRC4 || m == methodAES128 {
		h := md5.New()
		h.Write(c.key)
		h.Write([]byte{byte(ref.Num), byte(ref.Num >> 8), byte(ref.Num >> 16), byte(ref.Gen), byte(ref.Gen >> 8)})
		if m == methodAES128 {
			h.Write([]byte("sAlT"))
		}
		key = h.Sum(nil)[:min(len(c.key)+5, 16)]
	}
	switch m {
	case methodRC4:
		out := make([]byte, len(data))
		rc, _ := rc4.NewCipher(key)
		rc.XORKeyStream(out, data)
		return out
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

// decryptObject decrypts the strings of object ref, and marks its stream
// for decryption. A signature dictionary's /Contents stays as it is: the
// standard does not encrypt it, so that the signature covers plain bytes.
func (c *crypt) decryptObject(o Object, ref Ref) Object {
	var walk func(o Object, depth int) Object
	walk = func(o Object, depth int) Object {
		if depth > 64 {
			return o
		}
		switch v := o.(type) {
		case String:
			return String(c.decrypt(ref, v, c.strings))
		case HexString:
			return HexString(c.decrypt(ref, v, c.strings))
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
			s := &Stream{Dict: walk(v.Dict, depth+1).(Dict), Offset: v.Offset, Raw: v.Raw}
			if v.Dict["Type"] != Name("XRef") && (c.encryptMetadata || v.Dict["Type"] != Name("Metadata")) && !identityFilter(v.Dict) {
				s.decrypt = func(b []byte) []byte { return c.decrypt(ref, b, c.stream) }
			}
			return s
		}
		return o
	}
	return walk(o, 0)
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
