package testenv

import (
	"errors"
	"fmt"
)

// A small BER reader, enough to find a CMS SignedData's parts in the
// encodings producers write (DER, and BER with indefinite lengths, as NSS
// and openssl -stream write it), so tests can change one byte of exactly
// the part they mean. Go's encoding/asn1 and cryptobyte read DER only.

// berElement is one TLV: its tag's first octet, where its contents start
// and where the element ends (after the end-of-contents octets of an
// indefinite length).
type berElement struct {
	tag        byte
	start      int // first octet of the identifier
	body       int // first octet of the contents
	bodyEnd    int // end of the contents (before the end-of-contents octets)
	end        int
	indefinite bool
}

func (e berElement) constructed() bool { return e.tag&0x20 != 0 }

var errBER = errors.New("testenv: malformed BER")

func readBER(b []byte, off, depth int) (berElement, error) {
	e := berElement{start: off}
	if depth > 32 || off >= len(b) {
		return e, errBER
	}
	e.tag = b[off]
	i := off + 1
	if e.tag&0x1f == 0x1f { // high tag number: base-128 octets
		for ; i < len(b) && b[i]&0x80 != 0; i++ {
		}
		i++
	}
	if i >= len(b) {
		return e, errBER
	}
	l := int(b[i])
	i++
	switch {
	case l < 0x80:
		e.body, e.bodyEnd = i, i+l
	case l == 0x80:
		if !e.constructed() {
			return e, errBER
		}
		e.indefinite = true
		e.body = i
		for {
			if i+1 < len(b) && b[i] == 0 && b[i+1] == 0 {
				e.bodyEnd, e.end = i, i+2
				return e, nil
			}
			child, err := readBER(b, i, depth+1)
			if err != nil {
				return e, err
			}
			i = child.end
		}
	default:
		n := l & 0x7f
		if n > 4 || i+n > len(b) {
			return e, errBER
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
		e.body, e.bodyEnd = i, i+l
	}
	if e.bodyEnd > len(b) || e.bodyEnd < e.body {
		return e, errBER
	}
	e.end = e.bodyEnd
	return e, nil
}

func berChildren(b []byte, e berElement, depth int) ([]berElement, error) {
	var out []berElement
	for i := e.body; i < e.bodyEnd; {
		c, err := readBER(b, i, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		i = c.end
	}
	return out, nil
}

// CMSLength is the length of the BER element at the start of b: the
// SignedData without the zeros that pad a PDF's /Contents.
func CMSLength(b []byte) (int, error) {
	e, err := readBER(b, 0, 0)
	if err != nil {
		return 0, err
	}
	return e.end, nil
}

// SignatureValue finds the first SignerInfo's signature value in a CMS
// ContentInfo holding a SignedData, and returns where its octets are in
// cms. A constructed OCTET STRING (BER) yields its last segment.
func SignatureValue(cms []byte) (off, n int, err error) {
	ci, err := readBER(cms, 0, 0)
	if err != nil {
		return 0, 0, err
	}
	path := []struct {
		what string
		pick func([]berElement) (berElement, bool)
	}{
		{"ContentInfo content", func(es []berElement) (berElement, bool) { return at(es, 1) }},
		{"SignedData", func(es []berElement) (berElement, bool) { return at(es, 0) }},
		{"signerInfos", func(es []berElement) (berElement, bool) { return at(es, len(es)-1) }},
		{"SignerInfo", func(es []berElement) (berElement, bool) { return at(es, 0) }},
		{"signature", func(es []berElement) (berElement, bool) {
			for _, e := range es {
				if e.tag&^0x20 == 0x04 { // OCTET STRING, primitive or constructed
					return e, true
				}
			}
			return berElement{}, false
		}},
	}
	e := ci
	for _, step := range path {
		kids, err := berChildren(cms, e, 0)
		if err != nil {
			return 0, 0, err
		}
		var ok bool
		if e, ok = step.pick(kids); !ok {
			return 0, 0, fmt.Errorf("testenv: no %s in the CMS", step.what)
		}
	}
	for e.constructed() {
		kids, err := berChildren(cms, e, 0)
		if err != nil || len(kids) == 0 {
			return 0, 0, errBER
		}
		e = kids[len(kids)-1]
	}
	return e.body, e.bodyEnd - e.body, nil
}

func at(es []berElement, i int) (berElement, bool) {
	if i < 0 || i >= len(es) {
		return berElement{}, false
	}
	return es[i], true
}

// IndefiniteLength reports whether the CMS uses BER indefinite lengths at
// its outermost level.
func IndefiniteLength(cms []byte) bool {
	e, err := readBER(cms, 0, 0)
	return err == nil && e.indefinite
}

// DetachContent removes the encapsulated content (eContent) of a SignedData
// written with indefinite lengths down to its encapContentInfo, as
// openssl cms -sign -stream writes it: the SignedData becomes detached and
// its signature, over the signed attributes, stays valid. The enclosing
// elements need no new lengths since they have none.
func DetachContent(cms []byte) ([]byte, error) {
	e, err := readBER(cms, 0, 0)
	if err != nil {
		return nil, err
	}
	for _, i := range []int{1, 0, 2} { // ContentInfo.content, SignedData, encapContentInfo
		if !e.indefinite {
			return nil, errors.New("testenv: DetachContent needs indefinite lengths")
		}
		kids, err := berChildren(cms, e, 0)
		if err != nil {
			return nil, err
		}
		if e, _ = at(kids, i); e.end == 0 {
			return nil, errBER
		}
	}
	if !e.indefinite {
		return nil, errors.New("testenv: DetachContent needs indefinite lengths")
	}
	kids, err := berChildren(cms, e, 0)
	if err != nil {
		return nil, err
	}
	content, ok := at(kids, 1)
	if !ok {
		return cms, nil // detached already
	}
	return append(append([]byte{}, cms[:content.start]...), cms[content.end:]...), nil
}
