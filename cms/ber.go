package cms

import (
	"errors"
	"fmt"
)

// ErrEncoding is returned for bytes that are not BER at all.
var ErrEncoding = errors.New("cms: malformed ASN.1")

// Limits that keep hostile input cheap: real signatures nest a dozen levels
// and hold a few thousand elements.
const (
	maxDepth    = 64
	maxElements = 1 << 20
)

// toDER returns the first BER element of b re-encoded in DER's length rules:
// indefinite lengths become definite, non-minimal lengths minimal, and
// constructed OCTET STRINGs (as streaming encoders write eContent) become
// primitive. Elements already in DER come out byte for byte as they went in,
// which matters because a signature covers the signed attributes' encoding.
// Bytes after the first element (the zero padding of a PDF's /Contents)
// are dropped. SET OF elements are not re-sorted: signers that left them
// unsorted signed them unsorted.
//
// No maintained Go library exposes this conversion: encoding/asn1 and
// cryptobyte read DER only, and the pkcs7 packages that carry a BER
// converter keep it unexported.
func toDER(b []byte) ([]byte, error) {
	c := &berConv{in: b}
	out, _, err := c.element(0, 0)
	return out, err
}

type berConv struct {
	in    []byte
	count int
}

// header is what precedes an element's content.
type header struct {
	tag         []byte
	constructed bool
	indefinite  bool
	length      int  // of the content, when definite
	minimal     bool // the length is written as DER writes it
	content     int  // offset of the content
}

// readHeader reads the identifier and length octets at off.
func (c *berConv) readHeader(off int) (header, error) {
	in, start := c.in, off
	if off >= len(in) {
		return header{}, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	id := in[off]
	off++
	if id&0x1f == 0x1f { // high tag number: base-128 digits
		for {
			if off >= len(in) || off-start > 5 {
				return header{}, fmt.Errorf("%w: bad tag", ErrEncoding)
			}
			d := in[off]
			off++
			if d&0x80 == 0 {
				break
			}
		}
	}
	h := header{tag: in[start:off], constructed: id&0x20 != 0, minimal: true}
	if off >= len(in) {
		return header{}, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	l := int(in[off])
	off++
	switch {
	case l == 0x80:
		if !h.constructed {
			return header{}, fmt.Errorf("%w: indefinite primitive", ErrEncoding)
		}
		h.indefinite, h.minimal = true, false
	case l > 0x80:
		n := l & 0x7f
		if n > 4 || off+n > len(in) {
			return header{}, fmt.Errorf("%w: bad length", ErrEncoding)
		}
		l = 0
		for _, d := range in[off : off+n] {
			l = l<<8 | int(d)
		}
		off += n
		// DER: the long form only from 128, and no leading zero octet.
		h.minimal = l >= 0x80 && in[off-n] != 0
	}
	if !h.indefinite && (l < 0 || l > len(in)-off) {
		return header{}, fmt.Errorf("%w: length beyond the data", ErrEncoding)
	}
	h.length, h.content = l, off
	return h, nil
}

// element converts the element at off; it returns its DER and the offset
// just after it in the input. An element already in DER comes back as the
// input's own bytes, without a copy: converting costs nothing for DER and
// little for the usual BER (indefinite lengths around DER parts).
func (c *berConv) element(off, depth int) ([]byte, int, error) {
	if depth > maxDepth {
		return nil, 0, fmt.Errorf("%w: nested too deeply", ErrEncoding)
	}
	if c.count++; c.count > maxElements {
		return nil, 0, fmt.Errorf("%w: too many elements", ErrEncoding)
	}
	start := off
	h, err := c.readHeader(off)
	if err != nil {
		return nil, 0, err
	}
	if !h.constructed {
		end := h.content + h.length
		if h.minimal {
			return c.in[start:end], end, nil
		}
		return appendElement(nil, h.tag, c.in[h.content:end]), end, nil
	}
	children, next, changed, err := c.children(h, depth)
	if err != nil {
		return nil, 0, err
	}
	octets := len(h.tag) == 1 && h.tag[0] == 0x24 // constructed OCTET STRING
	if !changed && !octets {
		return c.in[start:next], next, nil
	}
	var content []byte
	tag := h.tag
	if octets { // join the segments into one primitive string
		tag = []byte{0x04}
		for _, ch := range children {
			seg, ok := primitiveContent(ch, 0x04)
			if !ok {
				return nil, 0, fmt.Errorf("%w: bad OCTET STRING segment", ErrEncoding)
			}
			content = append(content, seg...)
		}
	} else {
		for _, ch := range children {
			content = append(content, ch...)
		}
	}
	return appendElement(nil, tag, content), next, nil
}

// children converts the content of a constructed element; changed says
// whether anything differs from the input (then the element is rebuilt).
func (c *berConv) children(h header, depth int) (children [][]byte, next int, changed bool, err error) {
	off, end := h.content, h.content+h.length
	changed = !h.minimal
	for {
		if h.indefinite {
			if off+1 < len(c.in) && c.in[off] == 0 && c.in[off+1] == 0 {
				return children, off + 2, changed, nil
			}
		} else if off >= end {
			return children, off, changed, nil
		}
		child, n, err := c.element(off, depth+1)
		if err != nil {
			return nil, 0, false, err
		}
		if !h.indefinite && n > end {
			return nil, 0, false, fmt.Errorf("%w: child beyond its parent", ErrEncoding)
		}
		// Unchanged children are the very input bytes.
		changed = changed || len(child) != n-off || &child[0] != &c.in[off]
		children = append(children, child)
		off = n
	}
}

// primitiveContent returns the content of a DER element with the given tag.
func primitiveContent(der []byte, tag byte) ([]byte, bool) {
	if len(der) < 2 || der[0] != tag {
		return nil, false
	}
	l := int(der[1])
	p := 2
	if l > 0x80 {
		n := l & 0x7f
		l = 0
		for _, d := range der[2 : 2+n] {
			l = l<<8 | int(d)
		}
		p += n
	}
	return der[p : p+l], true
}

// appendElement appends tag, the minimal DER length of content, and content.
func appendElement(b, tag, content []byte) []byte {
	b = append(b, tag...)
	return append(appendLength(b, len(content)), content...)
}

// appendLength appends n as a minimal DER length.
func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 1<<8:
		b = append(b, 0x81, byte(n))
	case n < 1<<16:
		b = append(b, 0x82, byte(n>>8), byte(n))
	case n < 1<<24:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		b = append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return b
}
