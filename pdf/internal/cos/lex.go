package cos

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ErrSyntax wraps every parse error.
var ErrSyntax = errors.New("cos: syntax error")

type tokKind int

const (
	tEOF tokKind = iota
	tInt
	tReal
	tName
	tString
	tHex
	tArrayOpen
	tArrayClose
	tDictOpen
	tDictClose
	tKeyword
)

type token struct {
	kind tokKind
	i    int64
	f    float64
	s    []byte // name, string, keyword
	pos  int64  // offset of the token's first byte
}

// lexer reads tokens from a file position onwards.
type lexer struct {
	r    *bufio.Reader
	pos  int64 // offset of the next byte r returns
	back []token
}

func newLexer(ra io.ReaderAt, off, size int64) *lexer {
	return &lexer{r: bufio.NewReaderSize(io.NewSectionReader(ra, off, size-off), 4096), pos: off}
}

func newLexerBytes(b []byte) *lexer {
	return &lexer{r: bufio.NewReader(bytesReader(b)), pos: 0}
}

func (l *lexer) readByte() (byte, error) {
	c, err := l.r.ReadByte()
	if err == nil {
		l.pos++
	}
	return c, err
}

func (l *lexer) unreadByte() {
	l.r.UnreadByte()
	l.pos--
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) unread(t token) { l.back = append(l.back, t) }

func (l *lexer) errf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, l.pos, fmt.Sprintf(format, args...))
}

func (l *lexer) next() (token, error) {
	if n := len(l.back); n > 0 {
		t := l.back[n-1]
		l.back = l.back[:n-1]
		return t, nil
	}
	var c byte
	var err error
	for {
		c, err = l.readByte()
		if err == io.EOF {
			return token{kind: tEOF, pos: l.pos}, nil
		}
		if err != nil {
			return token{}, err
		}
		if c == '%' {
			for c != '\n' && c != '\r' {
				if c, err = l.readByte(); err != nil {
					return token{kind: tEOF, pos: l.pos}, nil
				}
			}
			continue
		}
		if !isSpace(c) {
			break
		}
	}
	start := l.pos - 1
	switch {
	case c == '[':
		return token{kind: tArrayOpen, pos: start}, nil
	case c == ']':
		return token{kind: tArrayClose, pos: start}, nil
	case c == '<':
		d, err := l.readByte()
		if err == nil && d == '<' {
			return token{kind: tDictOpen, pos: start}, nil
		}
		if err == nil {
			l.unreadByte()
		}
		return l.hexString(start)
	case c == '>':
		if d, err := l.readByte(); err == nil && d == '>' {
			return token{kind: tDictClose, pos: start}, nil
		}
		return token{}, l.errf("stray '>'")
	case c == '(':
		return l.literalString(start)
	case c == '/':
		return l.name(start)
	case c == ')' || c == '{' || c == '}':
		return token{kind: tKeyword, s: []byte{c}, pos: start}, nil
	}
	// A number or a keyword: read to the next delimiter.
	word := []byte{c}
	for {
		d, err := l.readByte()
		if err != nil {
			break
		}
		if isSpace(d) || isDelim(d) {
			l.unreadByte()
			break
		}
		word = append(word, d)
		if len(word) > 256 {
			return token{}, l.errf("token too long")
		}
	}
	if (word[0] >= '0' && word[0] <= '9') || word[0] == '-' || word[0] == '+' || word[0] == '.' {
		if i, err := strconv.ParseInt(string(word), 10, 64); err == nil {
			return token{kind: tInt, i: i, pos: start}, nil
		}
		if f, err := strconv.ParseFloat(string(word), 64); err == nil {
			return token{kind: tReal, f: f, pos: start}, nil
		}
		if word[0] == '-' && len(word) > 1 && word[1] == '-' { // "--5", seen in the wild
			if f, err := strconv.ParseFloat(string(word[1:]), 64); err == nil {
				return token{kind: tReal, f: f, pos: start}, nil
			}
		}
	}
	return token{kind: tKeyword, s: word, pos: start}, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// maxHexString bounds a hex string: a signature's /Contents, revocation
// data included, stays far below it.
const maxHexString = 64 << 20

func (l *lexer) hexString(start int64) (token, error) {
	var out []byte
	var hi byte
	half := false
	for {
		c, err := l.readByte()
		if err != nil {
			return token{}, l.errf("unterminated hex string")
		}
		if c == '>' {
			break
		}
		if isSpace(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return token{}, l.errf("bad hex digit %q", c)
		}
		if half {
			if len(out) >= maxHexString {
				return token{}, l.errf("hex string longer than %d bytes", maxHexString)
			}
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return token{kind: tHex, s: out, pos: start}, nil
}

func (l *lexer) literalString(start int64) (token, error) {
	var out []byte
	depth := 1
	for {
		c, err := l.readByte()
		if err != nil {
			return token{}, l.errf("unterminated string")
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return token{kind: tString, s: out, pos: start}, nil
			}
		case '\\':
			d, err := l.readByte()
			if err != nil {
				return token{}, l.errf("unterminated string")
			}
			switch d {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if e, err := l.readByte(); err == nil && e != '\n' {
					l.unreadByte()
				}
				continue
			case '\n':
				continue
			default:
				if d >= '0' && d <= '7' {
					v := d - '0'
					for range 2 {
						e, err := l.readByte()
						if err != nil {
							break
						}
						if e < '0' || e > '7' {
							l.unreadByte()
							break
						}
						v = v*8 + e - '0'
					}
					c = v
				} else {
					c = d
				}
			}
		case '\r':
			if e, err := l.readByte(); err == nil && e != '\n' {
				l.unreadByte()
			}
			c = '\n'
		}
		out = append(out, c)
		if len(out) > 1<<24 {
			return token{}, l.errf("string too long")
		}
	}
}

func (l *lexer) name(start int64) (token, error) {
	var out []byte
	for {
		c, err := l.readByte()
		if err != nil {
			break
		}
		if isSpace(c) || isDelim(c) {
			l.unreadByte()
			break
		}
		if c == '#' {
			h, err1 := l.readByte()
			lo, err2 := l.readByte()
			hv, ok1 := unhex(h)
			lv, ok2 := unhex(lo)
			if err1 == nil && err2 == nil && ok1 && ok2 {
				c = hv<<4 | lv
			}
		}
		out = append(out, c)
		if len(out) > 256 {
			return token{}, l.errf("name too long")
		}
	}
	return token{kind: tName, s: out, pos: start}, nil
}

// maxDepth bounds nesting, so that a hostile file cannot exhaust the stack.
const maxDepth = 64

// object parses one object. Indirect references are recognised; "stream"
// after a dictionary is left to the caller.
func (l *lexer) object(depth int) (Object, error) {
	if depth > maxDepth {
		return nil, l.errf("objects nested too deeply")
	}
	t, err := l.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tEOF:
		return nil, l.errf("unexpected end of file")
	case tInt:
		// "n g R"?
		t2, err := l.next()
		if err != nil {
			return nil, err
		}
		if t2.kind == tInt {
			t3, err := l.next()
			if err != nil {
				return nil, err
			}
			if t3.kind == tKeyword && string(t3.s) == "R" {
				return Ref{int(t.i), int(t2.i)}, nil
			}
			l.unread(t3)
		}
		l.unread(t2)
		return t.i, nil
	case tReal:
		return t.f, nil
	case tName:
		return Name(t.s), nil
	case tString:
		return String(t.s), nil
	case tHex:
		return String(t.s), nil
	case tArrayOpen:
		var a Array
		for {
			t, err := l.next()
			if err != nil {
				return nil, err
			}
			if t.kind == tArrayClose {
				return a, nil
			}
			if t.kind == tEOF {
				return nil, l.errf("unterminated array")
			}
			l.unread(t)
			o, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, o)
		}
	case tDictOpen:
		d := Dict{}
		for {
			t, err := l.next()
			if err != nil {
				return nil, err
			}
			if t.kind == tDictClose {
				return d, nil
			}
			if t.kind != tName {
				return nil, l.errf("dictionary key is not a name")
			}
			v, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			if v != nil {
				d[Name(t.s)] = v
			}
		}
	case tKeyword:
		switch string(t.s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return nil, l.errf("unexpected keyword %q", t.s)
	}
	return nil, l.errf("unexpected token")
}

// Span is where a value lies in a file: [Start, End). End is -1 when the
// parser had to read past the value to know it ended (numbers).
type Span struct{ Start, End int64 }

// DictSpans parses the indirect object at off, which must be a dictionary,
// and tells where each of its values lies, reading the file itself rather
// than any later revision of the object. A key given twice is an error: a
// signature dictionary with two /Contents could show one thing and sign
// another.
func DictSpans(r io.ReaderAt, size, off int64) (map[Name]Span, error) {
	l := newLexer(r, off, size)
	for _, want := range []tokKind{tInt, tInt, tKeyword} {
		t, err := l.next()
		if err != nil || t.kind != want {
			return nil, l.errf("expected an indirect object")
		}
	}
	if t, err := l.next(); err != nil || t.kind != tDictOpen {
		return nil, l.errf("expected a dictionary")
	}
	spans := map[Name]Span{}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tDictClose {
			return spans, nil
		}
		if t.kind != tName {
			return nil, l.errf("dictionary key is not a name")
		}
		key := Name(t.s)
		if _, dup := spans[key]; dup {
			return nil, l.errf("key /%s given twice", key)
		}
		v, err := l.next()
		if err != nil {
			return nil, err
		}
		l.unread(v)
		if _, err := l.object(1); err != nil {
			return nil, err
		}
		end := l.pos
		if len(l.back) > 0 {
			end = -1
		}
		spans[key] = Span{Start: v.pos, End: end}
	}
}
