package stream

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
)

func seal(t *testing.T, key, plain []byte, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(key, &out)
	if err != nil {
		t.Fatal(err)
	}
	for p := plain; len(p) > 0; {
		n := min(chunk, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func open(key, sealed []byte) ([]byte, error) {
	r, err := NewReader(key, bytes.NewReader(sealed), int64(len(sealed)))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func newKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

// Every size around the segment edges seals to Overhead more bytes, and
// opens to itself, read whole and at random offsets.
func TestRoundTrip(t *testing.T) {
	key := newKey()
	for _, size := range []int{0, 1, 100, SegmentSize - 1, SegmentSize, SegmentSize + 1, 2 * SegmentSize, 3*SegmentSize + 7} {
		plain := make([]byte, size)
		rand.Read(plain)
		for _, chunk := range []int{1 << 20, 1000, SegmentSize} {
			if size > 3*SegmentSize && chunk == 1 {
				continue
			}
			sealed := seal(t, key, plain, chunk)
			if got, want := int64(len(sealed)), int64(size)+Overhead(int64(size)); got != want {
				t.Errorf("%d bytes: sealed to %d, want %d", size, got, want)
			}
			if n, err := PlainSize(int64(len(sealed))); err != nil || n != int64(size) {
				t.Errorf("%d bytes: PlainSize %d, %v", size, n, err)
			}
			got, err := open(key, sealed)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes in writes of %d: %v", size, chunk, err)
			}
		}
		sealed := seal(t, key, plain, 4096)
		ra, err := NewReaderAt(key, bytes.NewReader(sealed), int64(len(sealed)))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50 && size > 0; i++ {
			off := mrand.IntN(size)
			n := mrand.IntN(size-off+1) + 0
			buf := make([]byte, n)
			if m, err := ra.ReadAt(buf, int64(off)); m != n || (err != nil && !(err == io.EOF && off+n == size)) {
				t.Fatalf("%d bytes: ReadAt(%d, %d) = %d, %v", size, n, off, m, err)
			}
			if !bytes.Equal(buf, plain[off:off+n]) {
				t.Fatalf("%d bytes: ReadAt(%d, %d) read other bytes", size, n, off)
			}
		}
		if _, err := ra.ReadAt(make([]byte, 1), int64(size)); err != io.EOF {
			t.Errorf("%d bytes: read past the end: %v", size, err)
		}
	}
}

// Whatever is done to a sealed file, it never opens to other bytes: cut at
// a segment's edge or inside one, segments swapped, dropped or repeated, a
// bit flipped, bytes appended, another key.
func TestTamperingDetected(t *testing.T) {
	key := newKey()
	plain := make([]byte, 3*SegmentSize+100)
	rand.Read(plain)
	sealed := seal(t, key, plain, 1<<20)
	seg := func(i int) []byte {
		off := headerSize + i*sealedSize
		return sealed[off:min(off+sealedSize, len(sealed))]
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	h := sealed[:headerSize]
	flipped := bytes.Clone(sealed)
	flipped[headerSize+SegmentSize+5] ^= 1
	for name, bad := range map[string][]byte{
		"cut at a segment edge":  cat(h, seg(0), seg(1), seg(2)),
		"cut inside a segment":   sealed[:len(sealed)-10],
		"cut to the header":      h,
		"segments swapped":       cat(h, seg(1), seg(0), seg(2), seg(3)),
		"a segment dropped":      cat(h, seg(0), seg(2), seg(3)),
		"a segment repeated":     cat(h, seg(0), seg(0), seg(1), seg(2), seg(3)),
		"a bit flipped":          flipped,
		"bytes appended":         cat(sealed, []byte("x")),
		"a segment appended":     cat(sealed, seg(1)),
		"another file's header":  cat([]byte("paraphe-stream2\n"), sealed[headerSize:]),
		"the last one moved":     cat(h, seg(0), seg(3), seg(1)),
		"an empty last appended": cat(sealed, make([]byte, tagSize)),
	} {
		if got, err := open(key, bad); err == nil || bytes.Equal(got, plain) {
			t.Errorf("%s: opened (%d bytes), err %v", name, len(got), err)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := open(newKey(), sealed); !errors.Is(err, ErrCorrupt) {
		t.Errorf("another key: %v", err)
	}
	// An empty plaintext: its one segment must be there, marked last.
	empty := seal(t, key, nil, 1)
	if got, err := open(key, empty); err != nil || len(got) != 0 {
		t.Errorf("empty: %q, %v", got, err)
	}
	if _, err := open(key, empty[:headerSize]); !errors.Is(err, ErrCorrupt) {
		t.Errorf("empty without its segment: %v", err)
	}
}

// No plaintext byte is read out before its segment is authenticated: a
// reader of a file whose second segment is damaged gets the first one,
// then the error, never the damaged bytes.
func TestNothingUnauthenticated(t *testing.T) {
	key := newKey()
	plain := bytes.Repeat([]byte("confidential "), 2*SegmentSize/13+100)
	sealed := seal(t, key, plain, 1<<20)
	sealed[headerSize+sealedSize+10] ^= 0xff
	r, _ := NewReader(key, bytes.NewReader(sealed), int64(len(sealed)))
	got, err := io.ReadAll(r)
	if !errors.Is(err, ErrCorrupt) || len(got) != SegmentSize || !bytes.Equal(got, plain[:SegmentSize]) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}

func TestWriterRefusesBadKeysAndLateWrites(t *testing.T) {
	if _, err := NewWriter(make([]byte, 16), io.Discard); err == nil {
		t.Error("a 16-byte key was taken")
	}
	w, _ := NewWriter(newKey(), io.Discard)
	w.Close()
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write after close")
	}
}
