// Package cos reads and writes the object layer of PDF files (ISO 32000-1
// section 7: the "Carousel Object System"): objects, cross-reference tables
// and streams, object streams, trailers. It reads through an io.ReaderAt and
// parses only the objects asked for, so memory does not grow with the file.
package cos

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
)

// Object is one of: nil (null), bool, int64, float64, Name, String, Array,
// Dict, Ref, *Stream.
type Object any

// Name is a PDF name, without the slash.
type Name string

// String is a PDF string's bytes.
type String []byte

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary.
type Dict map[Name]Object

// Ref is an indirect reference.
type Ref struct{ Num, Gen int }

// Stream is a stream object: its dictionary and where its data lies.
type Stream struct {
	Dict   Dict
	Offset int64  // of the first data byte in the file (when Raw is nil)
	Raw    []byte // the encoded data, when not read from the file
	// decrypt, for a stream of an encrypted document, decrypts its data.
	decrypt func([]byte) []byte
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Int returns an integer object's value.
func Int(o Object) (int64, bool) {
	switch v := o.(type) {
	case int64:
		return v, true
	case float64:
		if v == float64(int64(v)) {
			return int64(v), true
		}
	}
	return 0, false
}

// Num returns a number object's value.
func Num(o Object) (float64, bool) {
	switch v := o.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// Dict returns the dictionary of a Dict or a stream.
func AsDict(o Object) (Dict, bool) {
	switch v := o.(type) {
	case Dict:
		return v, true
	case *Stream:
		return v.Dict, true
	}
	return nil, false
}

// Append writes o in PDF syntax.
func Append(b []byte, o Object) []byte {
	switch v := o.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if len(s) > 12 {
			s = strconv.FormatFloat(v, 'f', 4, 64)
		}
		return append(b, s...)
	case Name:
		b = append(b, '/')
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte("/%()<>[]{}#"), c) >= 0 {
				b = append(b, '#', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			} else {
				b = append(b, c)
			}
		}
		return b
	case String:
		b = append(b, '(')
		for _, c := range v {
			switch c {
			case '(', ')', '\\':
				b = append(b, '\\', c)
			case '\r':
				b = append(b, '\\', 'r')
			case '\n':
				b = append(b, '\\', 'n')
			default:
				b = append(b, c)
			}
		}
		return append(b, ')')
	case HexString:
		b = append(b, '<')
		for _, c := range v {
			b = append(b, "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		}
		return append(b, '>')
	case Array:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ' ')
			}
			b = Append(b, e)
		}
		return append(b, ']')
	case Dict:
		b = append(b, "<<"...)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, string(k))
		}
		sort.Strings(keys) // stable output
		for _, k := range keys {
			b = Append(b, Name(k))
			b = append(b, ' ')
			b = Append(b, v[Name(k)])
			b = append(b, ' ')
		}
		return append(b, ">>"...)
	case Ref:
		return fmt.Appendf(b, "%d %d R", v.Num, v.Gen)
	case Raw:
		return append(b, v...)
	}
	panic(fmt.Sprintf("cos: cannot write %T", o))
}

// HexString is a string written in hexadecimal (<…>).
type HexString []byte

// Raw is written as is; for placeholders that are patched later.
type Raw []byte
