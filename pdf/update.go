package pdf

import (
	"crypto/rand"
	"fmt"
	"sort"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// update is one incremental update: new and replaced objects, written
// after the original bytes with a cross-reference section that points back
// to the previous one. The original bytes are never touched.
type update struct {
	next    int // next free object number
	objs    map[int]cos.Object
	gens    map[int]int // generation of replaced objects (new ones are 0)
	order   []int
	trailer cos.Dict // /Root, /Info, /ID of the file
	prev    int64    // offset of the previous cross-reference section (0: none)
	stream  bool     // write a cross-reference stream
	// full lists every object of a file whose cross-reference was rebuilt,
	// so the update can carry a complete section instead of /Prev.
	full map[int]cos.Entry
	// encrypt, for an encrypted document, encrypts each object with the
	// document's key as it is written (cos.File.Encrypt).
	encrypt func(cos.Object, cos.Ref) cos.Object
}

func newUpdate(f *cos.File) *update {
	u := &update{next: f.MaxNum + 1, objs: map[int]cos.Object{}, gens: map[int]int{}, trailer: cos.Dict{}, prev: f.StartXRef, stream: f.XRefStream}
	for _, k := range []cos.Name{"Root", "Info", "ID", "Encrypt"} {
		if v, ok := f.Trailer[k]; ok {
			u.trailer[k] = v
		}
	}
	if f.Encrypted() {
		u.encrypt = f.Encrypt
	}
	if f.Rebuilt {
		u.full = f.Entries()
		u.prev = 0
		u.stream = false
		for _, e := range u.full {
			if e.Kind == 'c' {
				u.stream = true // only a stream can say "in an object stream"
			}
		}
	}
	// A new second ID half: this is a new version of the same document
	// (the first half, from which an encrypted one's key is made, stays).
	if id, ok := u.trailer["ID"].(cos.Array); ok && len(id) == 2 {
		fresh := make([]byte, 16)
		rand.Read(fresh)
		u.trailer["ID"] = cos.Array{id[0], cos.HexString(fresh)}
	}
	return u
}

// newID sets the second half of the document ID this update writes,
// when the document has one, to id.
func (u *update) newID(id []byte) {
	if ids, ok := u.trailer["ID"].(cos.Array); ok && len(ids) == 2 {
		u.trailer["ID"] = cos.Array{ids[0], cos.HexString(id)}
	}
}

// following is an empty update to be written after u, whose
// cross-reference section is at prevXref.
func (u *update) following(prevXref int64) *update {
	return &update{next: u.next, objs: map[int]cos.Object{}, gens: map[int]int{}, trailer: u.trailer, prev: prevXref, stream: u.stream, encrypt: u.encrypt}
}

// add stores a new object and returns its reference.
func (u *update) add(o cos.Object) cos.Ref {
	n := u.next
	u.next++
	u.set(cos.Ref{Num: n}, o)
	return cos.Ref{Num: n}
}

// set replaces (or adds) object ref.
func (u *update) set(ref cos.Ref, o cos.Object) {
	if _, ok := u.objs[ref.Num]; !ok {
		u.order = append(u.order, ref.Num)
	}
	u.objs[ref.Num] = o
	if u.gens == nil {
		u.gens = map[int]int{}
	}
	u.gens[ref.Num] = ref.Gen
}

// serialize writes the update as it will stand at offset base, and returns
// the bytes, the offset of each object within them, and the offset (from
// base) of the cross-reference section.
func (u *update) serialize(base int64) (data []byte, at map[int]int, xrefAt int) {
	at = map[int]int{}
	data = append(data, '\n')
	for _, n := range u.order {
		at[n] = len(data)
		data = fmt.Appendf(data, "%d %d obj\n", n, u.gens[n])
		obj := u.objs[n]
		if u.encrypt != nil {
			obj = u.encrypt(obj, cos.Ref{Num: n, Gen: u.gens[n]})
		}
		switch o := obj.(type) {
		case *cos.Stream:
			o.Dict["Length"] = int64(len(o.Raw))
			data = cos.Append(data, o.Dict)
			data = append(data, "\nstream\n"...)
			data = append(data, o.Raw...)
			data = append(data, "\nendstream"...)
		default:
			data = cos.Append(data, o)
		}
		data = append(data, "\nendobj\n"...)
	}
	offsets := map[int]int64{}
	for n, e := range u.full {
		if e.Kind == 'n' {
			offsets[n] = e.Offset
			u.genOf(n, e.Gen)
		}
	}
	for n, off := range at {
		offsets[n] = base + int64(off)
	}
	size := u.next
	xrefAt = len(data)
	if u.stream {
		data = u.xrefStream(data, offsets, base, size)
	} else {
		data = u.xrefTable(data, offsets, size)
	}
	return data, at, xrefAt
}

func sortedNums(offsets map[int]int64) []int {
	nums := make([]int, 0, len(offsets))
	for n := range offsets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	return nums
}

func (u *update) trailerDict(size int) cos.Dict {
	t := cos.Dict{"Size": int64(size)}
	for k, v := range u.trailer {
		t[k] = v
	}
	if u.prev > 0 {
		t["Prev"] = u.prev
	}
	return t
}

func (u *update) xrefTable(data []byte, offsets map[int]int64, size int) []byte {
	data = append(data, "xref\n"...)
	nums := sortedNums(offsets)
	if u.full != nil {
		data = append(data, "0 1\n0000000000 65535 f \n"...)
	}
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		data = fmt.Appendf(data, "%d %d\n", nums[i], j-i+1)
		for k := i; k <= j; k++ {
			data = fmt.Appendf(data, "%010d %05d n \n", offsets[nums[k]], u.gens[nums[k]])
		}
		i = j + 1
	}
	data = append(data, "trailer\n"...)
	data = cos.Append(data, u.trailerDict(size))
	return append(data, '\n')
}

func (u *update) xrefStream(data []byte, offsets map[int]int64, base int64, size int) []byte {
	self := size // the stream is an object too
	offsets[self] = base + int64(len(data))
	size++
	compressed := map[int]cos.Entry{}
	for n, e := range u.full {
		if e.Kind == 'c' {
			if _, replaced := offsets[n]; !replaced {
				compressed[n] = e
				offsets[n] = -1 // listed below as type 2
			}
		}
	}
	nums := sortedNums(offsets)
	var index cos.Array
	var rows []byte
	width := 4
	if base+int64(len(data)) > 1<<32-1 {
		width = 8
	}
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		index = append(index, int64(nums[i]), int64(j-i+1))
		for k := i; k <= j; k++ {
			if c, ok := compressed[nums[k]]; ok {
				rows = append(rows, 2)
				for b := width - 1; b >= 0; b-- {
					rows = append(rows, byte(c.Offset>>(8*b)))
				}
				rows = append(rows, byte(c.Gen>>8), byte(c.Gen))
				continue
			}
			rows = append(rows, 1)
			off := offsets[nums[k]]
			for b := width - 1; b >= 0; b-- {
				rows = append(rows, byte(off>>(8*b)))
			}
			g := u.gens[nums[k]]
			rows = append(rows, byte(g>>8), byte(g))
		}
		i = j + 1
	}
	d := u.trailerDict(size)
	d["Type"] = cos.Name("XRef")
	d["W"] = cos.Array{int64(1), int64(width), int64(2)}
	d["Index"] = index
	d["Length"] = int64(len(rows))
	data = fmt.Appendf(data, "%d 0 obj\n", self)
	data = cos.Append(data, d)
	data = append(data, "\nstream\n"...)
	data = append(data, rows...)
	return append(data, "\nendstream\nendobj\n"...)
}

// genOf records the generation of an object listed from a rebuilt table.
func (u *update) genOf(n, gen int) {
	if _, ok := u.gens[n]; !ok {
		u.gens[n] = gen
	}
}

// finish appends "startxref N %%EOF".
func finish(data []byte, xrefOffset int64) []byte {
	return fmt.Appendf(data, "startxref\n%d\n%%%%EOF\n", xrefOffset)
}
