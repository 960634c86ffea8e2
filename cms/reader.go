package cms

import (
	"bufio"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Reader reads a ContentInfo holding a SignedData as a stream, DER or BER:
// Read gives the encapsulated content as it comes (nothing for a detached
// signature), and SignedData, once the content is read, parses what
// follows it. The content is never held in memory, whatever its size or
// the way it is cut (one definite OCTET STRING, or segments of a
// constructed one, nested or not, as streaming signers write them).
type Reader struct {
	// berReader's frames are the containers open around where the reader
	// is, outer first: ContentInfo, [0], SignedData,
	// EncapsulatedContentInfo, and the eContent's [0] and constructed
	// OCTET STRINGs while the content is read.
	berReader
	// head is the SignedData's version and digestAlgorithms as found;
	// contentType the encapsulated content's type.
	head        []byte
	digestAlgs  []asn1.ObjectIdentifier
	contentType asn1.ObjectIdentifier
	attached    bool
	// left is what remains of the primitive segment being read; contentAt
	// the number of frames open when the content began (its [0]).
	left      int64
	contentAt int
	met       bool // the content's OCTET STRING was met
	done      bool // the content is read to its end
	err       error
}

// berReader reads BER elements from a stream, keeping the containers it
// is inside (definite lengths checked, indefinite ones closed by their
// end-of-contents): the machinery of Reader and EnvelopedReader.
type berReader struct {
	r      *bufio.Reader
	pos    int64
	frames []frame
}

type frame struct {
	end int64 // where a definite length ends; -1 when indefinite
}

// Bounds that keep hostile input cheap: what follows the content
// (certificates, revocation data, signer infos) stays far below this in
// real signatures.
const maxTail = 64 << 20

// NewReader reads the opening of a ContentInfo from r, up to the
// encapsulated content.
func NewReader(r io.Reader) (*Reader, error) {
	cr := &Reader{berReader: berReader{r: bufio.NewReaderSize(r, 64<<10)}}
	if err := cr.open(); err != nil {
		return nil, err
	}
	return cr, nil
}

func (r *Reader) open() error {
	if _, err := r.enter(0x30); err != nil {
		return fmt.Errorf("%w: not a ContentInfo", ErrEncoding)
	}
	var ct asn1.ObjectIdentifier
	if err := r.readOID(&ct); err != nil {
		return err
	}
	if !ct.Equal(OIDSignedData) {
		return fmt.Errorf("%w: content type %s is not SignedData", ErrEncoding, ct)
	}
	if _, err := r.enter(0xa0); err != nil {
		return fmt.Errorf("%w: no SignedData", ErrEncoding)
	}
	if _, err := r.enter(0x30); err != nil {
		return fmt.Errorf("%w: SignedData", ErrEncoding)
	}
	version, err := r.element(1 << 10)
	if err != nil || version[0] != 0x02 {
		return fmt.Errorf("%w: SignedData version", ErrEncoding)
	}
	algs, err := r.element(1 << 16)
	if err != nil || algs[0] != 0x31 {
		return fmt.Errorf("%w: digest algorithms", ErrEncoding)
	}
	r.head = append(version, algs...)
	if der, err := toDER(algs); err == nil {
		set := cryptobyte.String(der)
		var body cryptobyte.String
		set.ReadASN1(&body, cbasn1.SET)
		for !body.Empty() {
			oid, _, err := readAlgorithm(&body)
			if err != nil {
				break
			}
			r.digestAlgs = append(r.digestAlgs, oid)
		}
	}
	if _, err := r.enter(0x30); err != nil {
		return fmt.Errorf("%w: encapsulated content", ErrEncoding)
	}
	if err := r.readOID(&r.contentType); err != nil {
		return err
	}
	if r.ended() {
		// Detached: no eContent.
		r.done = true
		return r.leave()
	}
	if _, err := r.enter(0xa0); err != nil {
		return fmt.Errorf("%w: encapsulated content", ErrEncoding)
	}
	r.attached, r.contentAt = true, len(r.frames)
	return nil
}

// Attached reports whether the SignedData holds its content.
func (r *Reader) Attached() bool { return r.attached }

// ContentType is the encapsulated content's type (id-data for a file).
func (r *Reader) ContentType() asn1.ObjectIdentifier { return r.contentType }

// DigestAlgorithms are the hashes the SignedData's digestAlgorithms name
// and this package knows: those its signers should have used.
func (r *Reader) DigestAlgorithms() []Hash {
	var out []Hash
	for _, oid := range r.digestAlgs {
		if h, ok := HashByOID(oid); ok && !containsHash(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func containsHash(hs []Hash, h Hash) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

// Read reads the encapsulated content.
func (r *Reader) Read(p []byte) (int, error) {
	for r.left == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		if r.err = r.nextSegment(); r.err != nil {
			if r.err == io.EOF {
				r.err = fmt.Errorf("%w: truncated", ErrEncoding)
			}
			return 0, r.err
		}
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := io.ReadFull(r.r, p)
	r.pos += int64(n)
	r.left -= int64(n)
	if err != nil {
		r.err = fmt.Errorf("%w: truncated", ErrEncoding)
		return n, r.err
	}
	return n, nil
}

// nextSegment moves to the next primitive piece of the content, or to its
// end (done).
func (r *Reader) nextSegment() error {
	for {
		if r.ended() {
			closing := len(r.frames)
			if err := r.leave(); err != nil {
				return err
			}
			if closing == r.contentAt {
				// The eContent [0] is closed: so must its
				// EncapsulatedContentInfo be.
				if !r.ended() {
					return fmt.Errorf("%w: data after the content", ErrEncoding)
				}
				r.done = true
				return r.leave()
			}
			continue
		}
		if len(r.frames) == r.contentAt {
			if r.met {
				return fmt.Errorf("%w: more than one content", ErrEncoding)
			}
			r.met = true
		}
		if len(r.frames) > r.contentAt+maxDepth {
			return fmt.Errorf("%w: nested too deeply", ErrEncoding)
		}
		tag, length, err := r.header()
		if err != nil {
			return err
		}
		switch tag {
		case 0x04:
			if r.left = length; length > 0 {
				return nil
			}
		case 0x24:
			r.push(length)
		default:
			return fmt.Errorf("%w: the content is not an OCTET STRING", ErrEncoding)
		}
	}
}

// SignedData reads the rest of the SignedData (the content that was not
// read is skipped) and parses it as a detached one: its Content is nil.
func (r *Reader) SignedData() (*SignedData, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return nil, err
	}
	var rest []byte
	for !r.ended() {
		el, err := r.element(maxTail - len(rest))
		if err != nil {
			return nil, err
		}
		rest = append(rest, el...)
	}
	sd := append([]byte{}, r.head...)
	sd = appendElement(sd, []byte{0x30}, mustMarshal(r.contentType))
	sd = append(sd, rest...)
	ci := append(mustMarshal(OIDSignedData), appendElement(nil, []byte{0xa0}, appendElement(nil, []byte{0x30}, sd))...)
	return Parse(appendElement(nil, []byte{0x30}, ci))
}

// header reads a tag (single byte: the ones read here are all low) and a
// length, -1 for an indefinite one.
func (r *berReader) header() (byte, int64, error) {
	var hb [2]byte
	if _, err := io.ReadFull(r.r, hb[:]); err != nil {
		return 0, 0, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	r.pos += 2
	tag, l := hb[0], int64(hb[1])
	if tag&0x1f == 0x1f {
		return 0, 0, fmt.Errorf("%w: unexpected tag", ErrEncoding)
	}
	switch {
	case l == 0x80:
		if tag&0x20 == 0 {
			return 0, 0, fmt.Errorf("%w: indefinite primitive", ErrEncoding)
		}
		return tag, -1, nil
	case l > 0x80:
		n := int(l & 0x7f)
		if n > 7 {
			return 0, 0, fmt.Errorf("%w: bad length", ErrEncoding)
		}
		var b [8]byte
		if _, err := io.ReadFull(r.r, b[:n]); err != nil {
			return 0, 0, fmt.Errorf("%w: truncated", ErrEncoding)
		}
		r.pos += int64(n)
		l = 0
		for _, d := range b[:n] {
			l = l<<8 | int64(d)
		}
	}
	if top := r.top(); top.end >= 0 && r.pos+l > top.end {
		return 0, 0, fmt.Errorf("%w: child beyond its parent", ErrEncoding)
	}
	return tag, l, nil
}

func (r *berReader) top() frame {
	if len(r.frames) == 0 {
		return frame{end: -1}
	}
	return r.frames[len(r.frames)-1]
}

func (r *berReader) push(length int64) {
	end := int64(-1)
	if length >= 0 {
		end = r.pos + length
	}
	r.frames = append(r.frames, frame{end: end})
}

// enter reads the header of a constructed element with tag and opens it.
func (r *berReader) enter(tag byte) (int64, error) {
	t, l, err := r.header()
	if err != nil {
		return 0, err
	}
	if t != tag {
		return 0, fmt.Errorf("%w: tag %#x where %#x was expected", ErrEncoding, t, tag)
	}
	r.push(l)
	return l, nil
}

// ended reports whether the innermost open container has no more
// elements: its definite length is used up, or end-of-contents follows.
func (r *berReader) ended() bool {
	top := r.top()
	if top.end >= 0 {
		return r.pos >= top.end
	}
	b, err := r.r.Peek(2)
	return err == nil && b[0] == 0 && b[1] == 0
}

// leave closes the innermost container, reading its end-of-contents.
func (r *berReader) leave() error {
	if len(r.frames) == 0 {
		return fmt.Errorf("%w: unbalanced", ErrEncoding)
	}
	top := r.top()
	r.frames = r.frames[:len(r.frames)-1]
	if top.end >= 0 {
		if r.pos != top.end {
			return fmt.Errorf("%w: length mismatch", ErrEncoding)
		}
		return nil
	}
	if _, err := r.r.Discard(2); err != nil {
		return fmt.Errorf("%w: truncated", ErrEncoding)
	}
	r.pos += 2
	return nil
}

func (r *berReader) readOID(oid *asn1.ObjectIdentifier) error {
	el, err := r.element(1 << 10)
	if err != nil {
		return err
	}
	s := cryptobyte.String(el)
	if !s.ReadASN1ObjectIdentifier(oid) {
		return fmt.Errorf("%w: object identifier", ErrEncoding)
	}
	return nil
}

var errTooLong = errors.New("too long")

// element reads one whole element, as encoded (BER indefinite lengths
// included), of at most limit bytes.
func (r *berReader) element(limit int) ([]byte, error) {
	out, err := r.copyElement(nil, limit, 0)
	if errors.Is(err, errTooLong) {
		return nil, fmt.Errorf("%w: an element is too long", ErrEncoding)
	}
	return out, err
}

func (r *berReader) copyElement(out []byte, limit, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested too deeply", ErrEncoding)
	}
	start := r.pos
	var hb [2]byte
	if _, err := io.ReadFull(r.r, hb[:]); err != nil {
		return nil, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	r.pos += 2
	out = append(out, hb[:]...)
	id := hb[0]
	lb := hb[1]
	if id&0x1f == 0x1f { // high tag number: base-128 digits, then the length
		for d := lb; d&0x80 != 0; {
			if r.pos-start > 6 {
				return nil, fmt.Errorf("%w: bad tag", ErrEncoding)
			}
			b, err := r.r.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("%w: truncated", ErrEncoding)
			}
			r.pos++
			out = append(out, b)
			d = b
		}
		b, err := r.r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%w: truncated", ErrEncoding)
		}
		r.pos++
		out = append(out, b)
		lb = b
	}
	l := int64(lb)
	switch {
	case lb == 0x80:
		if id&0x20 == 0 {
			return nil, fmt.Errorf("%w: indefinite primitive", ErrEncoding)
		}
		for {
			b, err := r.r.Peek(2)
			if err != nil {
				return nil, fmt.Errorf("%w: truncated", ErrEncoding)
			}
			if b[0] == 0 && b[1] == 0 {
				r.r.Discard(2)
				r.pos += 2
				return append(out, 0, 0), nil
			}
			if out, err = r.copyElement(out, limit, depth+1); err != nil {
				return nil, err
			}
		}
	case lb > 0x80:
		n := int(lb & 0x7f)
		if n > 7 {
			return nil, fmt.Errorf("%w: bad length", ErrEncoding)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r.r, b); err != nil {
			return nil, fmt.Errorf("%w: truncated", ErrEncoding)
		}
		r.pos += int64(n)
		out = append(out, b...)
		l = 0
		for _, d := range b {
			l = l<<8 | int64(d)
		}
	}
	if l > int64(limit-len(out)) {
		return nil, errTooLong
	}
	if top := r.top(); top.end >= 0 && r.pos+l > top.end {
		return nil, fmt.Errorf("%w: child beyond its parent", ErrEncoding)
	}
	at := len(out)
	out = append(out, make([]byte, l)...)
	if _, err := io.ReadFull(r.r, out[at:]); err != nil {
		return nil, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	r.pos += l
	return out, nil
}
