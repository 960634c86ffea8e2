package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function may be, from func to its closing
// brace, tests included: longer, it does several things that can each be
// read and tested alone.
const maxFuncLines = 100

// tableDirective, in a function's doc comment, exempts a function that is
// a table (data written as code) from maxFuncLines.
const tableDirective = "//paraphe:table"

// pending are functions over the limit that another change rewrites,
// "file function"; each must still be over it, so that the list empties as
// they go.
var pending = []string{}

// No function in the repository is over maxFuncLines lines, but generated
// code and tables.
func TestFunctionsAreShort(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	var long []string
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || d.Name() == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		files++
		if ast.IsGenerated(f) {
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		ast.Inspect(f, func(n ast.Node) bool {
			var name string
			switch x := n.(type) {
			case *ast.FuncDecl:
				if x.Body == nil || isTable(x.Doc) {
					return false
				}
				name = x.Name.Name
			case *ast.FuncLit: // outside a declaration: var f = func() {…}
				name = fmt.Sprintf("func literal at line %d", fset.Position(x.Pos()).Line)
			default:
				return true
			}
			if lines := fset.Position(n.End()).Line - fset.Position(n.Pos()).Line + 1; lines > maxFuncLines {
				long = append(long, rel+" "+name)
				t.Logf("%s %s: %d lines", rel, name, lines)
			}
			return false // a declaration's literals are counted in it
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 200 {
		t.Fatalf("read only %d Go files: the walk is broken", files)
	}
	for _, f := range long {
		if !slices.Contains(pending, f) {
			t.Errorf("%s is over %d lines: split it along its steps (or, for a table, mark it %s)", f, maxFuncLines, tableDirective)
		}
	}
	for _, p := range pending {
		if !slices.Contains(long, p) {
			t.Errorf("%s is no longer over %d lines (or no longer exists): take it out of pending", p, maxFuncLines)
		}
	}
}

func isTable(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, c := range doc.List {
		if strings.HasPrefix(c.Text, tableDirective) {
			return true
		}
	}
	return false
}
