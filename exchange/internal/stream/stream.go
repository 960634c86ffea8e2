// Package stream encrypts a file in segments with AES-256-GCM, so that a
// document of any size is encrypted and decrypted in constant memory and
// read at any offset, and so that a reader detects a segment changed,
// moved, dropped or added, and a file cut short, even at a segment's edge.
//
// The construction is age's STREAM (Hoang, Reyhanitabar, Rogaway, Vizár,
// "Online authenticated-encryption and its nonce-reuse misuse-resistance"),
// with AES-GCM where age has ChaCha20-Poly1305: the plaintext is cut into
// segments of 64 KiB (the last one may be shorter, and is empty only when
// the whole plaintext is), each sealed on its own with the nonce
//
//	11-byte big-endian segment number ‖ 1 byte: 1 for the last segment, else 0
//
// under a key used for one file only (a document's own key): nonces never
// repeat under a key, and a segment opens only at its place, and as the
// last one only if it was written as the last. A file is a 16-byte header
// ("paraphe-stream1" and a newline) then the sealed segments, each 16
// bytes longer than its plaintext.
package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"sync"
)

// SegmentSize is the plaintext size of every segment but the last.
const SegmentSize = 64 << 10

// KeySize is the size of a stream key (AES-256).
const KeySize = 32

const (
	tagSize     = 16
	sealedSize  = SegmentSize + tagSize
	header      = "paraphe-stream1\n"
	headerSize  = len(header)
	maxSegments = 1 << 40 // far beyond any document; the counter has 88 bits
)

// ErrCorrupt is returned when a file is not what the key sealed: changed,
// cut short, with segments moved, or sealed with another key.
var ErrCorrupt = errors.New("stream: the encrypted file is damaged or was not sealed with this key")

// Overhead is how much longer than n plaintext bytes their sealed file is.
func Overhead(n int64) int64 {
	segs := n / SegmentSize
	if n%SegmentSize != 0 || n == 0 {
		segs++
	}
	return int64(headerSize) + segs*tagSize
}

// PlainSize is the plaintext size of a sealed file of size bytes, or
// ErrCorrupt when no plaintext seals to that size.
func PlainSize(size int64) (int64, error) {
	body := size - int64(headerSize)
	if body < tagSize {
		return 0, ErrCorrupt
	}
	segs := (body + sealedSize - 1) / sealedSize
	last := body - (segs-1)*sealedSize
	if last < tagSize || (last == tagSize && segs > 1) {
		return 0, ErrCorrupt
	}
	return body - segs*tagSize, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("stream: the key is %d bytes, not %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// nonce writes segment n's nonce.
func nonce(dst *[12]byte, n int64, last bool) {
	for i := 10; i >= 0; i-- {
		dst[i] = byte(n)
		n >>= 8
	}
	dst[11] = 0
	if last {
		dst[11] = 1
	}
}

// Writer seals what is written to it. Close seals the last segment: a
// Writer not closed leaves a file that no reader accepts.
type Writer struct {
	w    io.Writer
	aead cipher.AEAD
	buf  []byte // plaintext not yet sealed, at most one segment
	out  []byte
	n    int64 // segments written
	err  error
}

// NewWriter returns a Writer that seals to w with key, which must seal
// nothing else.
func NewWriter(key []byte, w io.Writer) (*Writer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, header); err != nil {
		return nil, err
	}
	return &Writer{w: w, aead: aead, buf: make([]byte, 0, SegmentSize), out: make([]byte, 0, sealedSize)}, nil
}

// Write buffers p, sealing each segment as it fills. A full segment is
// sealed only when more follows, so that the last one is known at Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	total := len(p)
	for len(p) > 0 {
		if len(w.buf) == SegmentSize {
			if err := w.seal(false); err != nil {
				return total - len(p), err
			}
		}
		n := copy(w.buf[len(w.buf):SegmentSize], p)
		w.buf, p = w.buf[:len(w.buf)+n], p[n:]
	}
	return total, nil
}

func (w *Writer) seal(last bool) error {
	if w.n >= maxSegments {
		w.err = errors.New("stream: the file is too large")
		return w.err
	}
	var nb [12]byte
	nonce(&nb, w.n, last)
	w.out = w.aead.Seal(w.out[:0], nb[:], w.buf, nil)
	if _, err := w.w.Write(w.out); err != nil {
		w.err = err
		return err
	}
	w.n++
	w.buf = w.buf[:0]
	return nil
}

// Close seals the last segment; it does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	err := w.seal(true)
	if err == nil {
		w.err = errors.New("stream: write after close")
	}
	return err
}

// ReaderAt reads the plaintext of a sealed file at any offset, opening the
// segments it touches. It is safe for concurrent use when r is.
type ReaderAt struct {
	r     io.ReaderAt
	aead  cipher.AEAD
	size  int64 // plaintext
	segs  int64
	total int64 // sealed

	// The last segment opened by ReadAt, for the small reads in a row
	// that parsers make.
	mu       sync.Mutex
	cached   int64
	plain    []byte
	sealed   []byte
	hasCache bool
}

// NewReaderAt opens the sealed file r of size bytes with key. It checks the
// header; the segments are checked as they are read.
func NewReaderAt(key []byte, r io.ReaderAt, size int64) (*ReaderAt, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	plain, err := PlainSize(size)
	if err != nil {
		return nil, err
	}
	var h [headerSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if string(h[:]) != header {
		return nil, ErrCorrupt
	}
	body := size - int64(headerSize)
	return &ReaderAt{r: r, aead: aead, size: plain, segs: (body + sealedSize - 1) / sealedSize, total: size}, nil
}

// Size is the plaintext size.
func (ra *ReaderAt) Size() int64 { return ra.size }

// segment opens segment n into dst (cap ≥ SegmentSize), using buf
// (cap ≥ sealed segment) for the sealed bytes.
func (ra *ReaderAt) segment(dst, buf []byte, n int64) ([]byte, error) {
	off := int64(headerSize) + n*sealedSize
	end := min(off+sealedSize, ra.total)
	buf = buf[:end-off]
	if _, err := ra.r.ReadAt(buf, off); err != nil && !(errors.Is(err, io.EOF) && end == ra.total) {
		return nil, fmt.Errorf("stream: %w", err)
	}
	var nb [12]byte
	nonce(&nb, n, n == ra.segs-1)
	out, err := ra.aead.Open(dst[:0], nb[:], buf, nil)
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

// ReadAt reads len(p) plaintext bytes at off.
func (ra *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("stream: negative offset")
	}
	if off >= ra.size {
		if len(p) == 0 && off == ra.size {
			return 0, nil
		}
		return 0, io.EOF
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.plain == nil {
		ra.plain, ra.sealed = make([]byte, 0, SegmentSize), make([]byte, sealedSize)
	}
	n := 0
	for n < len(p) && off < ra.size {
		seg := off / SegmentSize
		if !ra.hasCache || ra.cached != seg {
			ra.hasCache = false
			out, err := ra.segment(ra.plain[:0], ra.sealed, seg)
			if err != nil {
				return n, err
			}
			ra.plain, ra.cached, ra.hasCache = out, seg, true
		}
		c := copy(p[n:], ra.plain[off-seg*SegmentSize:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Reader reads a sealed file from the start, one segment in memory.
type Reader struct {
	ra    *ReaderAt
	next  int64  // segment to open next
	plain []byte // the segment opened last
	out   []byte // what of it is still to read
	buf   []byte
	err   error
}

// NewReader reads the plaintext of the sealed file r of size bytes.
func NewReader(key []byte, r io.ReaderAt, size int64) (*Reader, error) {
	ra, err := NewReaderAt(key, r, size)
	if err != nil {
		return nil, err
	}
	return &Reader{ra: ra, plain: make([]byte, 0, SegmentSize), buf: make([]byte, sealedSize)}, nil
}

// Read returns plaintext only once its segment has been authenticated.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.next == r.ra.segs {
			return 0, io.EOF
		}
		out, err := r.ra.segment(r.plain[:0], r.buf, r.next)
		if err != nil {
			r.err = err
			return 0, err
		}
		r.next++
		r.out = out
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}
