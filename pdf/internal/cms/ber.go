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

// element converts the element at off; it returns its DER and the offset
// just after it in the input.
func (c *berConv) element(off, depth int) ([]byte, int, error) {
	if depth > maxDepth {
		return nil, 0, fmt.Errorf("%w: nested too deeply", ErrEncoding)
	}
	if c.count++; c.count > maxElements {
		return nil, 0, fmt.Errorf("%w: too many elements", ErrEncoding)
	}
	in := c.in
	start := off
	if off >= len(in) {
		return nil, 0, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	id := in[off]
	off++
	if id&0x1f == 0x1f { // high tag number: base-128 digits
		for {
			if off >= len(in) || off-start > 5 {
				return nil, 0, fmt.Errorf("%w: bad tag", ErrEncoding)
			}
			d := in[off]
			off++
			if d&0x80 == 0 {
				break
			}
		}
	}
	tag := in[start:off]
	constructed := id&0x20 != 0
	if off >= len(in) {
		return nil, 0, fmt.Errorf("%w: truncated", ErrEncoding)
	}
	l := int(in[off])
	off++
	indefinite := false
	switch {
	case l == 0x80:
		if !constructed {
			return nil, 0, fmt.Errorf("%w: indefinite primitive", ErrEncoding)
		}
		indefinite = true
	case l > 0x80:
		n := l & 0x7f
		if n > 4 || off+n > len(in) {
			return nil, 0, fmt.Errorf("%w: bad length", ErrEncoding)
		}
		l = 0
		for _, d := range in[off : off+n] {
			l = l<<8 | int(d)
		}
		off += n
		if l < 0 || l > len(in)-off {
			return nil, 0, fmt.Errorf("%w: length beyond the data", ErrEncoding)
		}
	default:
		if l > len(in)-off {
			return nil, 0, fmt.Errorf("%w: length beyond the data", ErrEncoding)
		}
	}
	if !constructed {
		end := off + l
		return appendElement(nil, tag, in[off:end]), end, nil
	}
	// Constructed: convert the children; their concatenation is the content.
	var content []byte
	end := off + l
	var children [][]byte
	for {
		if indefinite {
			if off+1 < len(in) && in[off] == 0 && in[off+1] == 0 {
				off += 2
				break
			}
		} else if off >= end {
			break
		}
		child, next, err := c.element(off, depth+1)
		if err != nil {
			return nil, 0, err
		}
		if !indefinite && next > end {
			return nil, 0, fmt.Errorf("%w: child beyond its parent", ErrEncoding)
		}
		children = append(children, child)
		off = next
	}
	if id == 0x24 { // constructed OCTET STRING: join the segments
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
	return appendElement(nil, tag, content), off, nil
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
	n := len(content)
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
	return append(b, content...)
}
