package cms

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
)

// AttachedWriter writes a ContentInfo whose SignedData holds its content
// (a .p7m), streaming: the content goes out as it is written, hashed on
// the way, in segments of a constructed OCTET STRING, and the SignedData's
// lengths are BER's indefinite ones, as streaming signers write them
// (openssl cms -stream, RFC 5652 §4 allows BER). Only the signer info,
// certificates and revocation data, which follow the content, are held in
// memory.
type AttachedWriter struct {
	b   *Builder
	w   io.Writer
	v   *Validation
	h   hash.Hash
	seg segmenter
	err error
}

// segmenter cuts content, as it is written, into the primitive segments
// of a constructed OCTET STRING; seal, when set, transforms each piece
// in place (encryption) before it goes out.
type segmenter struct {
	w   io.Writer
	buf []byte
	// wrote: some segment went out (an empty content still gets one).
	wrote bool
	seal  func([]byte) error
}

func newSegmenter(w io.Writer, seal func([]byte) error) segmenter {
	return segmenter{w: w, buf: make([]byte, 0, segmentSize), seal: seal}
}

func (s *segmenter) write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), segmentSize-len(s.buf))
		at := len(s.buf)
		s.buf = append(s.buf, p[:k]...)
		if s.seal != nil {
			if err := s.seal(s.buf[at:]); err != nil {
				return n, err
			}
		}
		p, n = p[k:], n+k
		if len(s.buf) == segmentSize {
			if err := s.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush writes the buffered content as one primitive segment: its
// header, then the buffer itself (not a copy).
func (s *segmenter) flush() error {
	s.wrote = true
	var hdr [8]byte
	if _, err := s.w.Write(appendLength(append(hdr[:0], 0x04), len(s.buf))); err != nil {
		return err
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

// close writes what is buffered: the last segment, or an empty one when
// none went out.
func (s *segmenter) close() error {
	if len(s.buf) > 0 || !s.wrote {
		return s.flush()
	}
	return nil
}

// segmentSize is the size of the OCTET STRING segments the content is cut
// into.
const segmentSize = 64 << 10

// eoc is BER's end-of-contents: it closes an indefinite length.
var eoc = []byte{0, 0}

// NewAttached writes the opening of the ContentInfo to w, up to where the
// content goes. v is the validation data the SignedData will carry (it
// decides its version), nil for none.
func (b *Builder) NewAttached(w io.Writer, v *Validation) (*AttachedWriter, error) {
	if len(b.Chain) == 0 {
		return nil, ErrNoCertificate
	}
	a := &AttachedWriter{b: b, w: w, v: v, h: sha256.New(), seg: newSegmenter(w, nil)}
	var head []byte
	head = append(head, 0x30, 0x80) // ContentInfo
	head = append(head, mustMarshal(OIDSignedData)...)
	head = append(head, 0xa0, 0x80) // [0] EXPLICIT content
	head = append(head, 0x30, 0x80) // SignedData
	head = append(head, mustMarshal(versionFor(v))...)
	head = append(head, digestAlgorithms...)
	head = append(head, 0x30, 0x80) // EncapsulatedContentInfo
	head = append(head, mustMarshal(OIDData)...)
	head = append(head, 0xa0, 0x80) // [0] EXPLICIT eContent
	head = append(head, 0x24, 0x80) // OCTET STRING, constructed
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	return a, nil
}

// versionFor is the SignedData's version with v's revocation data: 5 when
// OCSP responses go in the crls field as an "other" format, 1 otherwise
// (RFC 5652 §5.1).
func versionFor(v *Validation) int {
	if v != nil && len(v.OCSPs) > 0 {
		return 5
	}
	return 1
}

// Write writes content.
func (a *AttachedWriter) Write(p []byte) (int, error) {
	if a.err != nil {
		return 0, a.err
	}
	a.h.Write(p)
	n, err := a.seg.write(p)
	a.err = err
	return n, err
}

// Digest is the SHA-256 of the content written so far: what Builder.Sign
// signs once it is all written.
func (a *AttachedWriter) Digest() []byte { return a.h.Sum(nil) }

// Close writes the rest of the ContentInfo: the end of the content, the
// certificates, the validation data given to NewAttached and s's signer
// info. It does not close the underlying writer.
func (a *AttachedWriter) Close(s *Signature) error {
	if a.err != nil {
		return a.err
	}
	if err := a.seg.close(); err != nil {
		return err
	}
	_, fields, err := a.b.fields(s, a.v)
	if err != nil {
		return err
	}
	var tail []byte
	tail = append(tail, eoc...) // the OCTET STRING
	tail = append(tail, eoc...) // eContent
	tail = append(tail, eoc...) // EncapsulatedContentInfo
	tail = append(tail, fields...)
	tail = append(tail, eoc...) // SignedData
	tail = append(tail, eoc...) // [0]
	tail = append(tail, eoc...) // ContentInfo
	a.err = errClosed
	_, err = a.w.Write(tail)
	return err
}

var errClosed = errors.New("cms: the SignedData is already closed")
