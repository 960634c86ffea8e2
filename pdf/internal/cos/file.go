package cos

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
)

// Errors a caller branches on.
var (
	ErrNotPDF    = errors.New("cos: not a PDF file")
	ErrEncrypted = errors.New("cos: the PDF is encrypted")
)

type xrefEntry struct {
	kind   byte  // 'n' in use at offset, 'c' compressed in an object stream, 'f' free
	offset int64 // 'n': byte offset; 'c': number of the object stream
	gen    int   // 'n': generation; 'c': index in the object stream
}

// File is an opened PDF: its cross-reference data and trailer. Objects are
// parsed on demand.
type File struct {
	r    io.ReaderAt
	Size int64

	xref    map[int]xrefEntry
	Trailer Dict
	// StartXRef is the offset of the last cross-reference section, which an
	// incremental update names as /Prev.
	StartXRef int64
	// XRefStream is true when that section is a cross-reference stream, so
	// that an update writes one too.
	XRefStream bool
	// MaxNum is the highest object number in use (new objects go above).
	MaxNum int

	objStms map[int]*objStm
	// section numbers the cross-reference sections as they are read, newest
	// first; sectionOf[num] is the one that gave num its entry.
	section   int
	sectionOf map[int]int
	// Rebuilt is true when the cross-reference was damaged and rebuilt by
	// scanning; an update then writes a complete table.
	Rebuilt bool
	// MissingEOF is true when the file does not end with %%EOF (ISO
	// 32000-1 7.5.5: "the last line of the file shall contain only the
	// end-of-file marker"; blanks after it are tolerated): it was cut short
	// or not completely written, even when an earlier revision's
	// cross-reference data still reads.
	MissingEOF bool

	// crypt decrypts an encrypted document opened with OpenDecrypted;
	// encryptRef is its /Encrypt dictionary, which is never encrypted.
	crypt      *crypt
	encryptRef Ref
	password   []byte
}

// Encrypted reports whether the document is encrypted (and was opened with
// OpenDecrypted).
func (f *File) Encrypted() bool { return f.crypt != nil }

type objStm struct {
	data    []byte
	offsets map[int]int // object number → offset in data
	index   map[int]int // object number → position in the stream
}

// Open reads the cross-reference data of the PDF in r. An encrypted
// document is refused with ErrEncrypted (OpenDecrypted reads it).
func Open(r io.ReaderAt, size int64) (*File, error) {
	f, err := open(r, size)
	if err != nil {
		return nil, err
	}
	if f.Trailer["Encrypt"] != nil {
		return nil, ErrEncrypted
	}
	return f, nil
}

// IsPDF reports whether r opens as a PDF does: "%PDF-" within its first
// 1,024 bytes, where readers look for it.
func IsPDF(r io.ReaderAt) bool {
	head := make([]byte, 1024)
	n, _ := r.ReadAt(head, 0)
	return bytes.Contains(head[:n], []byte("%PDF-"))
}

func open(r io.ReaderAt, size int64) (*File, error) {
	f := &File{r: r, Size: size, xref: map[int]xrefEntry{}, objStms: map[int]*objStm{}, sectionOf: map[int]int{}}
	if !IsPDF(r) {
		return nil, ErrNotPDF
	}
	f.MissingEOF = !EndsWithEOF(r, size)
	start, err := f.findStartXRef()
	if err == nil {
		f.StartXRef = start
		err = f.readXRefChain(start)
	}
	if err != nil || f.Trailer == nil || f.Trailer["Root"] == nil {
		// A damaged cross-reference: rebuild it from the objects themselves.
		if rerr := f.reconstruct(); rerr != nil {
			if err == nil {
				err = rerr
			}
			return nil, fmt.Errorf("%w (and it cannot be rebuilt: %v)", err, rerr)
		}
	}
	for num := range f.xref {
		f.MaxNum = max(f.MaxNum, num)
	}
	if sz, ok := Int(f.Trailer["Size"]); ok && sz < 1<<23 {
		f.MaxNum = max(f.MaxNum, int(sz)-1)
	}
	if f.MaxNum >= 1<<23-16 { // ISO 32000-1 C.2: at most 8,388,607 objects
		return nil, fmt.Errorf("%w: object numbers out of range", ErrSyntax)
	}
	return f, nil
}

func (f *File) findStartXRef() (int64, error) {
	tail := int64(2048)
	if tail > f.Size {
		tail = f.Size
	}
	buf := make([]byte, tail)
	if _, err := f.r.ReadAt(buf, f.Size-tail); err != nil && err != io.EOF {
		return 0, err
	}
	i := bytes.LastIndex(buf, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("%w: no startxref (truncated file?)", ErrSyntax)
	}
	l := newLexerBytes(buf[i+len("startxref"):])
	t, err := l.next()
	if err != nil || t.kind != tInt || t.i <= 0 || t.i >= f.Size {
		return 0, fmt.Errorf("%w: bad startxref", ErrSyntax)
	}
	return t.i, nil
}

// EndsWithEOF reports whether the last bytes of r other than blanks (white
// space and NULs, looked for over at most 1 MiB) are %%EOF.
func EndsWithEOF(r io.ReaderAt, size int64) bool {
	const chunk, limit = 4096, 1 << 20
	buf := make([]byte, chunk)
	end := size
	for end > 0 && size-end < limit {
		n := min(int64(chunk), end)
		if _, err := r.ReadAt(buf[:n], end-n); err != nil && err != io.EOF {
			return false
		}
		k := n
		for k > 0 && isSpace(buf[k-1]) {
			k--
		}
		if k == 0 {
			end -= n
			continue
		}
		last := end - n + k // just after the last non-blank byte
		if last < 5 {
			return false
		}
		marker := make([]byte, 5)
		if _, err := r.ReadAt(marker, last-5); err != nil && err != io.EOF {
			return false
		}
		return string(marker) == "%%EOF"
	}
	return false
}

// readXRefChain reads the section at off and its /Prev predecessors; the
// newest entry for an object wins.
func (f *File) readXRefChain(off int64) error {
	seen := map[int64]bool{}
	first := true
	for off > 0 {
		if seen[off] || len(seen) > 1000 {
			return fmt.Errorf("%w: cross-reference loop", ErrSyntax)
		}
		seen[off] = true
		f.section++
		trailer, isStream, err := f.readXRefSection(off)
		if err != nil {
			return err
		}
		if first {
			f.Trailer = trailer
			f.XRefStream = isStream
			first = false
		}
		// A hybrid file: the table's trailer points at a stream as well.
		if stm, ok := Int(trailer["XRefStm"]); ok && !seen[stm] {
			seen[stm] = true
			if _, _, err := f.readXRefSection(stm); err != nil {
				return err
			}
		}
		prev, _ := Int(trailer["Prev"])
		off = prev
	}
	return nil
}

// setEntry records num's entry unless a newer section gave one. In a
// hybrid file the table of a section marks free the objects its /XRefStm
// stream holds: the stream's entry wins over that.
func (f *File) setEntry(num int, e xrefEntry) {
	old, ok := f.xref[num]
	if !ok || (old.kind == 'f' && e.kind != 'f' && f.sectionOf[num] == f.section) {
		f.xref[num] = e
		f.sectionOf[num] = f.section
	}
}

func (f *File) readXRefSection(off int64) (Dict, bool, error) {
	l := newLexer(f.r, off, f.Size)
	t, err := l.next()
	if err != nil {
		return nil, false, err
	}
	if t.kind == tKeyword && string(t.s) == "xref" {
		d, err := f.readXRefTable(l)
		return d, false, err
	}
	l.unread(t)
	d, err := f.readXRefStream(l)
	return d, true, err
}

func (f *File) readXRefTable(l *lexer) (Dict, error) {
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tKeyword && string(t.s) == "trailer" {
			o, err := l.object(0)
			if err != nil {
				return nil, err
			}
			d, ok := o.(Dict)
			if !ok {
				return nil, l.errf("trailer is not a dictionary")
			}
			return d, nil
		}
		if t.kind != tInt {
			return nil, l.errf("bad cross-reference subsection")
		}
		count, err := l.next()
		if err != nil || count.kind != tInt || count.i < 0 || count.i > 1<<24 {
			return nil, l.errf("bad cross-reference count")
		}
		for i := int64(0); i < count.i; i++ {
			o, err1 := l.next()
			g, err2 := l.next()
			k, err3 := l.next()
			if err1 != nil || err2 != nil || err3 != nil || o.kind != tInt || g.kind != tInt || k.kind != tKeyword {
				return nil, l.errf("bad cross-reference entry")
			}
			num := int(t.i + i)
			switch string(k.s) {
			case "n":
				f.setEntry(num, xrefEntry{kind: 'n', offset: o.i, gen: int(g.i)})
			case "f":
				f.setEntry(num, xrefEntry{kind: 'f'})
			default:
				return nil, l.errf("bad cross-reference entry type")
			}
		}
	}
}

// indirect reads "n g obj" and the object after it; streams come back with
// their data offset.
func (f *File) indirect(l *lexer) (Ref, Object, error) {
	n, err1 := l.next()
	g, err2 := l.next()
	k, err3 := l.next()
	if err1 != nil || err2 != nil || err3 != nil || n.kind != tInt || g.kind != tInt || k.kind != tKeyword || string(k.s) != "obj" {
		return Ref{}, nil, l.errf("expected an indirect object")
	}
	o, err := l.object(0)
	if err != nil {
		return Ref{}, nil, err
	}
	ref := Ref{int(n.i), int(g.i)}
	d, ok := o.(Dict)
	if !ok {
		return ref, o, nil
	}
	t, err := l.next()
	if err != nil || t.kind != tKeyword || string(t.s) != "stream" {
		return ref, o, nil
	}
	// The data starts after the EOL that follows "stream".
	c, err := l.readByte()
	if err == nil && c == '\r' {
		c, err = l.readByte()
	}
	if err != nil {
		return ref, nil, l.errf("truncated stream")
	}
	if c != '\n' {
		l.unreadByte()
	}
	return ref, &Stream{Dict: d, Offset: l.pos}, nil
}

func (f *File) readXRefStream(l *lexer) (Dict, error) {
	_, o, err := f.indirect(l)
	if err != nil {
		return nil, err
	}
	s, ok := o.(*Stream)
	if !ok || s.Dict["Type"] != Name("XRef") {
		return nil, l.errf("expected a cross-reference stream")
	}
	data, err := f.StreamData(s)
	if err != nil {
		return nil, err
	}
	w, ok := s.Dict["W"].(Array)
	if !ok || len(w) != 3 {
		return nil, l.errf("cross-reference stream without /W")
	}
	var widths [3]int
	rowLen := 0
	for i := range 3 {
		v, _ := Int(w[i])
		if v < 0 || v > 8 {
			return nil, l.errf("bad /W")
		}
		widths[i] = int(v)
		rowLen += int(v)
	}
	if rowLen == 0 {
		return nil, l.errf("cross-reference stream with empty rows")
	}
	size, _ := Int(s.Dict["Size"])
	index := Array{int64(0), size}
	if ix, ok := s.Dict["Index"].(Array); ok {
		index = ix
	}
	field := func(row []byte, i int) int64 {
		start := 0
		for j := range i {
			start += widths[j]
		}
		var v int64
		for _, c := range row[start : start+widths[i]] {
			v = v<<8 | int64(c)
		}
		if widths[i] == 0 && i == 0 {
			return 1 // type defaults to 1
		}
		return v
	}
	pos := 0
	for i := 0; i+1 < len(index); i += 2 {
		first, _ := Int(index[i])
		count, _ := Int(index[i+1])
		if first < 0 || count < 0 || count > int64(len(data)/rowLen) {
			return nil, l.errf("bad /Index")
		}
		for j := int64(0); j < count; j++ {
			if pos+rowLen > len(data) {
				return nil, l.errf("cross-reference stream too short")
			}
			row := data[pos : pos+rowLen]
			pos += rowLen
			num := int(first + j)
			switch field(row, 0) {
			case 0:
				f.setEntry(num, xrefEntry{kind: 'f'})
			case 1:
				f.setEntry(num, xrefEntry{kind: 'n', offset: field(row, 1), gen: int(field(row, 2))})
			case 2:
				f.setEntry(num, xrefEntry{kind: 'c', offset: field(row, 1), gen: int(field(row, 2))})
			}
		}
	}
	return s.Dict, nil
}

// encryptionMark is what shows a file encrypted: a trailer's /Encrypt, or
// the standard security handler's dictionary.
var encryptionMark = regexp.MustCompile(`/Encrypt\s*(\d+\s+\d+\s+R|<<)|/Filter\s*/Standard[\s/>]`)

// reconstruct rebuilds the cross-reference by scanning the file for
// "n g obj", and takes the last trailer (or the catalog) it finds.
func (f *File) reconstruct() error {
	f.xref = map[int]xrefEntry{}
	var sc rebuildScan
	const chunk, lap = 1 << 20, 64
	buf := make([]byte, lap+chunk+lap)
	for off := int64(0); off < f.Size; off += chunk {
		// Each chunk is read with a little of its neighbours, so that a
		// header cut at a boundary is still seen whole (and only once).
		base := max(0, off-lap)
		n, _ := f.r.ReadAt(buf, base)
		data := buf[:n]
		inChunk := func(i int) bool { a := base + int64(i); return a >= off && a < off+chunk }
		sc.headers(f, data, base, inChunk)
		sc.markers(data, base, inChunk)
		sc.encrypted = sc.encrypted || encryptionMark.Match(data)
		sc.trailers(data, inChunk)
	}
	f.indexObjStms(&sc)
	trailer := sc.trailer
	if trailer == nil {
		if trailer = f.findCatalog(&sc); trailer == nil {
			return fmt.Errorf("%w: no catalog found", ErrSyntax)
		}
	}
	if trailer["Encrypt"] == nil && sc.encrypted {
		// An encrypted file whose trailers are lost: read as plain, its
		// strings and streams would be noise, and an update would be
		// written in clear.
		return fmt.Errorf("%w: encrypted, and its encryption dictionary is lost", ErrSyntax)
	}
	delete(trailer, "Prev")
	delete(trailer, "XRefStm")
	f.Trailer = trailer
	f.XRefStream = false
	f.StartXRef = 0
	f.Rebuilt = true
	return nil
}

// rebuildScan is what reconstruct finds in the file, chunk by chunk.
type rebuildScan struct {
	objects           []objectHeader // in file order
	catalogs, objStms []int64        // where "/Catalog" and "/ObjStm" stand
	trailer           Dict           // the last trailer with a /Root
	encrypted         bool           // an encryption dictionary shows
}

type objectHeader struct {
	at  int64
	num int
}

// headers enters in f's cross-reference every "n g obj" header that
// starts in the chunk data (read at base).
func (sc *rebuildScan) headers(f *File, data []byte, base int64, inChunk func(int) bool) {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(" obj"))
		if j < 0 {
			return
		}
		at := i + j
		i = at + 4
		if !inChunk(at) {
			continue
		}
		// walk back over "n g"
		k := at
		for k > 0 && data[k-1] >= '0' && data[k-1] <= '9' {
			k--
		}
		if k == at || k == 0 || data[k-1] != ' ' {
			continue
		}
		genEnd := k - 1
		k = genEnd
		for k > 0 && data[k-1] >= '0' && data[k-1] <= '9' {
			k--
		}
		if k == genEnd || (k > 0 && !isSpace(data[k-1])) {
			continue
		}
		num, err1 := strconv.Atoi(string(data[k:genEnd]))
		gen, err2 := strconv.Atoi(string(data[genEnd+1 : at]))
		if err1 != nil || err2 != nil || num <= 0 || num >= 1<<23 {
			continue
		}
		f.xref[num] = xrefEntry{kind: 'n', offset: base + int64(k), gen: gen}
		sc.objects = append(sc.objects, objectHeader{base + int64(k), num})
	}
}

// markers notes where the chunk says /Catalog and /ObjStm, found as text
// rather than by parsing every object (which a hostile file can make
// quadratic).
func (sc *rebuildScan) markers(data []byte, base int64, inChunk func(int) bool) {
	for _, m := range []struct {
		word string
		list *[]int64
	}{{"/Catalog", &sc.catalogs}, {"/ObjStm", &sc.objStms}} {
		for i := 0; ; {
			j := bytes.Index(data[i:], []byte(m.word))
			if j < 0 {
				break
			}
			if inChunk(i + j) {
				*m.list = append(*m.list, base+int64(i+j))
			}
			i += j + len(m.word)
		}
	}
}

// trailers keeps the chunk's last trailer dictionary that names a /Root.
func (sc *rebuildScan) trailers(data []byte, inChunk func(int) bool) {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("trailer"))
		if j < 0 {
			return
		}
		if inChunk(i + j) {
			l := newLexerBytes(data[i+j+7:])
			if o, err := l.object(0); err == nil {
				if d, ok := o.(Dict); ok && d["Root"] != nil {
					sc.trailer = d
				}
			}
		}
		i += j + 7
	}
}

// owner is the object whose header precedes offset at (0 for none).
func (sc *rebuildScan) owner(at int64) int {
	k := sort.Search(len(sc.objects), func(i int) bool { return sc.objects[i].at > at }) - 1
	if k < 0 {
		return 0
	}
	return sc.objects[k].num
}

// indexObjStms enters the objects inside object streams, from each
// stream's table of contents, where no header of their own was found.
func (f *File) indexObjStms(sc *rebuildScan) {
	for _, at := range sc.objStms {
		stm := sc.owner(at)
		if _, err := f.fromObjStm(stm, -1); err != nil {
			continue
		}
		for num, idx := range f.objStms[stm].index {
			if _, ok := f.xref[num]; !ok {
				f.xref[num] = xrefEntry{kind: 'c', offset: int64(stm), gen: idx}
			}
		}
	}
}

// findCatalog makes a trailer for a file that has none left: the last
// object marked /Catalog that is one, else a catalog inside an object
// stream (compressed: no marker shows). It returns nil when there is none.
func (f *File) findCatalog(sc *rebuildScan) Dict {
	for i := len(sc.catalogs) - 1; i >= 0; i-- {
		num := sc.owner(sc.catalogs[i])
		if d, _ := f.ResolveDict(Ref{Num: num, Gen: f.xref[num].gen}); d != nil && d["Type"] == Name("Catalog") {
			return Dict{"Root": Ref{Num: num, Gen: f.xref[num].gen}}
		}
	}
	for num, e := range f.xref {
		if e.kind != 'c' {
			continue
		}
		if d, _ := f.ResolveDict(Ref{Num: num}); d != nil && d["Type"] == Name("Catalog") {
			return Dict{"Root": Ref{Num: num}}
		}
	}
	return nil
}

// Get returns the object ref names (nil when it does not exist).
func (f *File) Get(ref Ref) (Object, error) {
	e, ok := f.xref[ref.Num]
	if !ok || e.kind == 'f' {
		return nil, nil
	}
	if e.kind == 'c' {
		return f.fromObjStm(int(e.offset), ref.Num)
	}
	if e.offset <= 0 || e.offset >= f.Size {
		return nil, fmt.Errorf("%w: object %d at offset %d outside the file", ErrSyntax, ref.Num, e.offset)
	}
	l := newLexer(f.r, e.offset, f.Size)
	got, o, err := f.indirect(l)
	if err != nil {
		return nil, fmt.Errorf("object %d: %w", ref.Num, err)
	}
	if got.Num != ref.Num {
		return nil, fmt.Errorf("%w: object %d found where %d was expected", ErrSyntax, got.Num, ref.Num)
	}
	if f.crypt != nil && ref.Num != f.encryptRef.Num {
		o = f.crypt.decryptObject(o, Ref{ref.Num, e.gen})
	}
	return o, nil
}

func (f *File) fromObjStm(stmNum, num int) (Object, error) {
	stm, ok := f.objStms[stmNum]
	if !ok {
		// An object stream is never itself compressed (ISO 32000-1 7.5.7):
		// refusing that also stops a stream that contains itself.
		if e := f.xref[stmNum]; e.kind != 'n' {
			return nil, fmt.Errorf("%w: object stream %d is not a plain object", ErrSyntax, stmNum)
		}
		o, err := f.Get(Ref{stmNum, 0})
		if err != nil {
			return nil, err
		}
		s, ok := o.(*Stream)
		if !ok {
			return nil, fmt.Errorf("%w: object stream %d missing", ErrSyntax, stmNum)
		}
		data, err := f.StreamData(s)
		if err != nil {
			return nil, err
		}
		n, _ := Int(s.Dict["N"])
		first, _ := Int(s.Dict["First"])
		if first < 0 || first > int64(len(data)) || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("%w: bad object stream %d", ErrSyntax, stmNum)
		}
		stm = &objStm{data: data[first:], offsets: map[int]int{}, index: map[int]int{}}
		l := newLexerBytes(data[:first])
		for i := range n {
			a, err1 := l.next()
			b, err2 := l.next()
			if err1 != nil || err2 != nil || a.kind != tInt || b.kind != tInt {
				break
			}
			stm.offsets[int(a.i)] = int(b.i)
			stm.index[int(a.i)] = int(i)
		}
		if len(f.objStms) > 8 {
			clear(f.objStms) // bound memory on files with many object streams
		}
		f.objStms[stmNum] = stm
	}
	if num < 0 {
		return nil, nil // loading the stream was all the caller wanted
	}
	off, ok := stm.offsets[num]
	if !ok || off < 0 || off > len(stm.data) {
		return nil, nil
	}
	return newLexerBytes(stm.data[off:]).object(0)
}

// Resolve follows a reference (and chains of them).
func (f *File) Resolve(o Object) (Object, error) {
	for range 32 {
		r, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		if o, err = f.Get(r); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: reference loop", ErrSyntax)
}

// ResolveDict resolves o and returns it as a dictionary (nil if it is not one).
func (f *File) ResolveDict(o Object) (Dict, error) {
	o, err := f.Resolve(o)
	if err != nil {
		return nil, err
	}
	d, _ := AsDict(o)
	return d, nil
}

// maxStream bounds what StreamData decodes into memory: it serves metadata
// (cross-reference and object streams, fonts), not page content.
const maxStream = 256 << 20

// StreamData returns the decoded data of a stream (Flate with PNG
// predictors; other filters are returned encoded with an error).
func (f *File) StreamData(s *Stream) ([]byte, error) {
	raw := s.Raw
	if raw == nil {
		length, err := f.Resolve(s.Dict["Length"])
		if err != nil {
			return nil, err
		}
		n, ok := Int(length)
		if !ok || n < 0 || s.Offset+n > f.Size || n > maxStream {
			return nil, fmt.Errorf("%w: bad stream length", ErrSyntax)
		}
		raw = make([]byte, n)
		if _, err := f.r.ReadAt(raw, s.Offset); err != nil && err != io.EOF {
			return nil, err
		}
	}
	if s.decrypt != nil {
		raw = s.decrypt(raw)
	}
	filter := s.Dict["Filter"]
	if a, ok := filter.(Array); ok && len(a) == 1 {
		filter = a[0]
	}
	switch filter {
	case nil:
		return raw, nil
	case Name("FlateDecode"):
		zr, err := zlib.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		data, err := io.ReadAll(io.LimitReader(zr, maxStream))
		if err != nil && len(data) == 0 {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		parms, _ := f.ResolveDict(s.Dict["DecodeParms"])
		return unpredict(data, parms)
	}
	return nil, fmt.Errorf("cos: stream filter %v not supported", filter)
}

// unpredict undoes PNG predictors (as cross-reference streams use them).
func unpredict(data []byte, parms Dict) ([]byte, error) {
	pred, _ := Int(parms["Predictor"])
	if pred < 10 {
		return data, nil
	}
	cols, ok := Int(parms["Columns"])
	if !ok {
		cols = 1
	}
	row := int(cols)
	if row <= 0 || row > 1<<16 {
		return nil, fmt.Errorf("%w: bad /Columns", ErrSyntax)
	}
	var out []byte
	prev := make([]byte, row)
	for i := 0; i+row+1 <= len(data); i += row + 1 {
		typ := data[i]
		cur := append([]byte(nil), data[i+1:i+1+row]...)
		for j := range cur {
			var left, up, upLeft byte
			if j > 0 {
				left, upLeft = cur[j-1], prev[j-1]
			}
			up = prev[j]
			switch typ {
			case 1:
				cur[j] += left
			case 2:
				cur[j] += up
			case 3:
				cur[j] += byte((int(left) + int(up)) / 2)
			case 4:
				p := int(left) + int(up) - int(upLeft)
				pa, pb, pc := abs(p-int(left)), abs(p-int(up)), abs(p-int(upLeft))
				switch {
				case pa <= pb && pa <= pc:
					cur[j] += left
				case pb <= pc:
					cur[j] += up
				default:
					cur[j] += upLeft
				}
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Entry is a cross-reference entry: Kind 'n' at Offset with generation
// Gen, or 'c' in object stream Offset at index Gen.
type Entry struct {
	Kind   byte
	Offset int64
	Gen    int
}

// Entries lists every object in use, for rewriting a complete
// cross-reference section.
func (f *File) Entries() map[int]Entry {
	out := map[int]Entry{}
	for n, e := range f.xref {
		if e.kind != 'f' {
			out[n] = Entry{e.kind, e.offset, e.gen}
		}
	}
	return out
}

// Nums lists the object numbers in use.
func (f *File) Nums() []int {
	var out []int
	for n, e := range f.xref {
		if e.kind != 'f' {
			out = append(out, n)
		}
	}
	return out
}

// Where tells where object num lives: its kind ('n' at an offset, 'c' in an
// object stream, 0 absent) and position, so that two revisions can be told
// apart.
func (f *File) Where(num int) (byte, int64, int) {
	e, ok := f.xref[num]
	if !ok || e.kind == 'f' {
		return 0, 0, 0
	}
	return e.kind, e.offset, e.gen
}
