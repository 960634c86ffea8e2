package trust

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	dsig "github.com/russellhaering/goxmldsig"
)

// A trusted list is read in passes over its bytes, never as a tree: a
// national list may be tens of MiB, and a tree of it ten times more.
// scanList finds the root and the signature; canonicalDocument writes the
// canonical form the document reference digests, streaming; parseList
// decodes the rest. Only the signature, a few KiB, becomes a tree, for
// goxmldsig to canonicalize its SignedInfo and SignedProperties.

const nsXML = "http://www.w3.org/XML/1998/namespace"

// scanned is what scanList found.
type scanned struct {
	rootStart, rootEnd int64 // the root's start tag
	rootName           string
	sigStart, sigEnd   int64 // the signature element, child of the root
	before, after      []xml.ProcInst
	ids                map[string]int // how many elements carry each Id
}

// scanList checks the document's shape (one root, a trusted list; no DTD;
// nothing but white space, comments and processing instructions outside
// the root; exactly one ds:Signature child of the root; end tags matching
// start tags and no attribute twice, which raw tokens do not check) and
// locates its parts.
func scanList(data []byte) (*scanned, error) {
	s := &scanned{ids: map[string]int{}, sigStart: -1}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var ns nsStack
	var open []string
	depth, sigs := 0, 0
	for {
		start := dec.InputOffset()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotTrustedList, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 && s.rootName != "" {
				return nil, fmt.Errorf("%w: several root elements", ErrNotTrustedList)
			}
			if err := ns.push(t.Attr); err != nil {
				return nil, err
			}
			space, err := ns.resolve(t.Name.Space, true)
			if err != nil {
				return nil, err
			}
			seen := make(map[xml.Name]bool, len(t.Attr))
			for _, a := range t.Attr {
				if a.Name.Space == "" && (a.Name.Local == "Id" || a.Name.Local == "ID" || a.Name.Local == "id") {
					s.ids[a.Value]++
				}
				// Twice the same attribute, by name or, through two
				// prefixes, by namespace (Namespaces in XML §6.3).
				n := a.Name
				if n.Space != "" && n.Space != "xmlns" {
					if n.Space, err = ns.resolve(n.Space, false); err != nil {
						return nil, err
					}
				}
				if seen[n] {
					return nil, fmt.Errorf("%w: attribute %s twice", ErrNotTrustedList, qname(a.Name))
				}
				seen[n] = true
			}
			open = append(open, qname(t.Name))
			switch depth {
			case 0:
				if t.Name.Local != "TrustServiceStatusList" || space != nsTSL {
					return nil, ErrNotTrustedList
				}
				s.rootStart, s.rootEnd, s.rootName = start, dec.InputOffset(), qname(t.Name)
			case 1:
				if t.Name.Local == "Signature" && space == nsDSig {
					sigs++
					s.sigStart = start
				}
			}
			depth++
		case xml.EndElement:
			depth--
			ns.pop()
			if depth < 0 || open[depth] != qname(t.Name) {
				return nil, fmt.Errorf("%w: end tag %s does not match", ErrNotTrustedList, qname(t.Name))
			}
			open = open[:depth]
			if depth == 1 && s.sigStart >= 0 && s.sigEnd == 0 {
				s.sigEnd = dec.InputOffset()
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return nil, fmt.Errorf("%w: text outside the root element", ErrNotTrustedList)
			}
		case xml.Directive:
			return nil, fmt.Errorf("%w: document type declaration", ErrNotTrustedList)
		case xml.ProcInst:
			if depth == 0 && t.Target != "xml" {
				if s.rootName == "" {
					s.before = append(s.before, t.Copy())
				} else {
					s.after = append(s.after, t.Copy())
				}
			}
		}
	}
	switch {
	case s.rootName == "":
		return nil, ErrNotTrustedList
	case depth != 0:
		return nil, fmt.Errorf("%w: unclosed elements", ErrNotTrustedList)
	case sigs == 0:
		return nil, &SignatureError{Problem: SigMissing}
	case sigs > 1:
		return nil, &SignatureError{Problem: SigSeveral}
	}
	return s, nil
}

// canonicalDocument writes to w the canonical form (XML C14N 1.0 or 1.1,
// or exclusive XML C14N, without comments) of the whole document but the
// signature: what a reference with URI "" and the transforms
// enveloped-signature then alg digests. prefixes is an exclusive
// canonicalization's InclusiveNamespaces PrefixList. For a whole document,
// C14N 1.0 and 1.1 are the same.
func canonicalDocument(w io.Writer, data []byte, s *scanned, alg, prefixes string) error {
	c, err := newCanonicalizer(w, alg, prefixes)
	if err != nil {
		return err
	}
	for _, pi := range s.before {
		writePI(c.w, pi)
		c.w.WriteByte('\n')
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		off := dec.InputOffset()
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotTrustedList, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if off == s.sigStart {
				// The enveloped-signature transform: the signature is no
				// part of what it signs. (The offset alone would not do:
				// the end of an empty element <a/> comes at the offset of
				// what follows it.)
				if err := skipElement(dec); err != nil {
					return fmt.Errorf("%w: %v", ErrNotTrustedList, err)
				}
				continue
			}
			if err := c.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			c.end()
		case xml.CharData:
			if len(c.names) > 0 {
				escapeText(c.w, t)
			}
		case xml.ProcInst:
			if len(c.names) > 0 {
				writePI(c.w, t)
			}
		}
	}
	for _, pi := range s.after {
		c.w.WriteByte('\n')
		writePI(c.w, pi)
	}
	return c.w.Flush()
}

// canonicalizer writes a document's elements in canonical form as their
// raw tokens come.
type canonicalizer struct {
	w         *bufio.Writer
	exclusive bool
	inclusive map[string]bool // an exclusive canonicalization's PrefixList ("" for #default)
	ns        nsStack
	// rendered[i] are the namespaces the i-th open element's output
	// declares or inherits, as prefix → URI.
	rendered []map[string]string
	names    []string // the open elements' qualified names
}

func newCanonicalizer(w io.Writer, alg, prefixes string) (*canonicalizer, error) {
	c := &canonicalizer{w: bufio.NewWriterSize(w, 64<<10), inclusive: map[string]bool{},
		rendered: []map[string]string{{"": ""}}}
	switch dsig.AlgorithmID(strings.TrimSuffix(alg, "#WithComments")) {
	case dsig.CanonicalXML10ExclusiveAlgorithmId:
		c.exclusive = true
	case dsig.CanonicalXML10RecAlgorithmId, dsig.CanonicalXML11AlgorithmId:
	default:
		return nil, &SignatureError{Problem: SigUnsupported, Detail: alg}
	}
	for _, p := range strings.Fields(prefixes) {
		if p == "#default" {
			p = ""
		}
		c.inclusive[p] = true
	}
	return c, nil
}

// start writes a start tag: its namespace declarations, then its
// attributes, each in canonical order.
func (c *canonicalizer) start(t xml.StartElement) error {
	if err := c.ns.push(t.Attr); err != nil {
		return err
	}
	mine, decls, err := c.declarations(t)
	if err != nil {
		return err
	}
	attrs, err := c.attributes(t)
	if err != nil {
		return err
	}
	name := qname(t.Name)
	c.w.WriteByte('<')
	c.w.WriteString(name)
	for _, d := range decls {
		writeAttr(c.w, d)
	}
	for _, a := range attrs {
		writeAttr(c.w, a.Attr)
	}
	c.w.WriteByte('>')
	c.rendered = append(c.rendered, mine)
	c.names = append(c.names, name)
	return nil
}

// end writes the end tag of the innermost open element.
func (c *canonicalizer) end() {
	c.ns.pop()
	c.w.WriteString("</")
	c.w.WriteString(c.names[len(c.names)-1])
	c.w.WriteByte('>')
	c.names = c.names[:len(c.names)-1]
	c.rendered = c.rendered[:len(c.rendered)-1]
}

// declarations returns the namespace declarations element t's start tag
// writes, sorted, and the namespaces its output then has: those it uses
// (exclusive canonicalization, with the PrefixList's), or all in scope,
// less what the parent's output already declares.
func (c *canonicalizer) declarations(t xml.StartElement) (map[string]string, []xml.Attr, error) {
	parent := c.rendered[len(c.rendered)-1]
	mine := parent
	var decls []xml.Attr
	render := func(prefix, uri string) {
		if prefix == "xml" {
			return // never declared (C14N §4.7)
		}
		if v, ok := mine[prefix]; ok && v == uri {
			return
		}
		if len(decls) == 0 {
			mine = copyMap(parent)
		}
		mine[prefix] = uri
		if prefix == "" {
			decls = append(decls, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: uri})
		} else {
			decls = append(decls, xml.Attr{Name: xml.Name{Space: "xmlns", Local: prefix}, Value: uri})
		}
	}
	if !c.exclusive {
		for p, uri := range c.ns.scope() {
			render(p, uri)
		}
		sortDecls(decls)
		return mine, decls, nil
	}
	used := map[string]bool{t.Name.Space: true}
	for _, a := range t.Attr {
		if a.Name.Space != "" && a.Name.Space != "xmlns" {
			used[a.Name.Space] = true
		}
	}
	for p := range c.inclusive {
		if _, ok := c.ns.lookup(p); ok {
			used[p] = true
		}
	}
	for p := range used {
		uri, err := c.ns.resolve(p, true)
		if err != nil {
			return nil, nil, err
		}
		render(p, uri)
	}
	sortDecls(decls)
	return mine, decls, nil
}

// attributes returns element t's attributes but namespace declarations,
// in canonical order: by namespace URI, then local name.
func (c *canonicalizer) attributes(t xml.StartElement) ([]nsAttr, error) {
	attrs := make([]nsAttr, 0, len(t.Attr))
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		uri := ""
		if a.Name.Space != "" {
			var err error
			if uri, err = c.ns.resolve(a.Name.Space, false); err != nil {
				return nil, err
			}
		}
		attrs = append(attrs, nsAttr{uri: uri, Attr: a})
	}
	sort.Slice(attrs, func(i, j int) bool {
		if attrs[i].uri != attrs[j].uri {
			return attrs[i].uri < attrs[j].uri
		}
		return attrs[i].Name.Local < attrs[j].Name.Local
	})
	return attrs, nil
}

// skipElement reads raw tokens through the end of the element whose start
// tag was just read.
func skipElement(dec *xml.Decoder) error {
	for depth := 1; ; {
		tok, err := dec.RawToken()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

type nsAttr struct {
	uri string
	xml.Attr
}

// sortDecls orders namespace declarations as C14N does: the default one
// first, then by prefix.
func sortDecls(decls []xml.Attr) {
	sort.Slice(decls, func(i, j int) bool {
		if (decls[i].Name.Space == "") != (decls[j].Name.Space == "") {
			return decls[i].Name.Space == ""
		}
		return decls[i].Name.Local < decls[j].Name.Local
	})
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func writePI(w *bufio.Writer, pi xml.ProcInst) {
	w.WriteString("<?")
	w.WriteString(pi.Target)
	if len(pi.Inst) > 0 {
		w.WriteByte(' ')
		w.Write(pi.Inst)
	}
	w.WriteString("?>")
}

func writeAttr(w *bufio.Writer, a xml.Attr) {
	w.WriteByte(' ')
	w.WriteString(qname(a.Name))
	w.WriteString(`="`)
	escapeAttr(w, a.Value)
	w.WriteByte('"')
}

// escapeText and escapeAttr escape as XML C14N §2.3 says.
func escapeText(w *bufio.Writer, b []byte) {
	for _, c := range b {
		switch c {
		case '&':
			w.WriteString("&amp;")
		case '<':
			w.WriteString("&lt;")
		case '>':
			w.WriteString("&gt;")
		case '\r':
			w.WriteString("&#xD;")
		default:
			w.WriteByte(c)
		}
	}
}

func escapeAttr(w *bufio.Writer, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			w.WriteString("&amp;")
		case '<':
			w.WriteString("&lt;")
		case '"':
			w.WriteString("&quot;")
		case '\t':
			w.WriteString("&#x9;")
		case '\n':
			w.WriteString("&#xA;")
		case '\r':
			w.WriteString("&#xD;")
		default:
			w.WriteByte(c)
		}
	}
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// nsStack follows the namespace declarations in scope while reading raw
// tokens. Frames that declare nothing share their parent's map.
type nsStack struct {
	frames []map[string]string
}

func (s *nsStack) top() map[string]string {
	if len(s.frames) == 0 {
		return nil
	}
	return s.frames[len(s.frames)-1]
}

func (s *nsStack) push(attrs []xml.Attr) error {
	m := s.top()
	copied := false
	for _, a := range attrs {
		prefix, ok := "", false
		switch {
		case a.Name.Space == "xmlns":
			prefix, ok = a.Name.Local, true
			if a.Value == "" {
				return fmt.Errorf("%w: prefix %s undeclared", ErrNotTrustedList, prefix)
			}
			if prefix == "xmlns" || prefix == "xml" && a.Value != nsXML {
				return fmt.Errorf("%w: reserved prefix %s", ErrNotTrustedList, prefix)
			}
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			ok = true
		}
		if !ok {
			continue
		}
		if !copied {
			m, copied = copyMap(m), true
		}
		m[prefix] = a.Value
	}
	s.frames = append(s.frames, m)
	return nil
}

func (s *nsStack) pop() {
	if len(s.frames) > 0 {
		s.frames = s.frames[:len(s.frames)-1]
	}
}

func (s *nsStack) lookup(prefix string) (string, bool) {
	v, ok := s.top()[prefix]
	return v, ok
}

// resolve returns the namespace of prefix. An undeclared prefix is an
// error, but for the default namespace of an element, which is then none.
func (s *nsStack) resolve(prefix string, element bool) (string, error) {
	if prefix == "xml" {
		return nsXML, nil
	}
	if v, ok := s.top()[prefix]; ok {
		return v, nil
	}
	if prefix == "" && element {
		return "", nil
	}
	return "", fmt.Errorf("%w: undeclared prefix %q", ErrNotTrustedList, prefix)
}

// scope returns the namespaces in scope, the default one included ("" for
// none).
func (s *nsStack) scope() map[string]string {
	m := s.top()
	if _, ok := m[""]; ok {
		return m
	}
	c := copyMap(m)
	c[""] = ""
	return c
}
