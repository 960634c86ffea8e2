package pdf

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// ErrNeedsRepair is returned (as a *DamagedError) for a file whose
// structure is damaged, signed without Options.Repair: it was most likely
// cut short or badly saved, and what a reader shows of it may not be what
// its author saved. Damage inside a stream's data (a picture, a page's
// content) is not structural and does not count.
var ErrNeedsRepair = errors.New("pdf: the file's structure is damaged")

// ErrTruncated comes with ErrDamaged for a file cut short (it does not end
// with %%EOF) of which not a page can be read, even by rebuilding it.
var ErrTruncated = errors.New("pdf: the file was cut short")

// pastRepair is the error for a file that cannot be read, even rebuilt.
func pastRepair(src io.ReaderAt, size int64, name string, err error) error {
	if !cos.EndsWithEOF(src, size) {
		return fmt.Errorf("%w: %w: %s: %v", ErrDamaged, ErrTruncated, name, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrDamaged, name, err)
}

// Damage is what had to be rebuilt to read a file.
type Damage struct {
	// Truncated: the file does not end with %%EOF (ISO 32000-1 7.5.5), so
	// its end is missing.
	Truncated bool
	// Rebuilt: its cross-reference data (where each object is) was
	// missing or broken, and its objects were found by scanning the file;
	// Objects of them.
	Rebuilt bool
	Objects int
	// Pages is how many pages could be read; PagesDeclared how many the
	// page tree says there are (fewer found: pages are lost).
	Pages, PagesDeclared int
}

// PagesLost reports whether pages the document declares could not be read.
func (d Damage) PagesLost() bool { return d.Pages < d.PagesDeclared }

func (d Damage) String() string {
	var parts []string
	if d.Truncated {
		parts = append(parts, "no %%EOF at the end")
	}
	if d.Rebuilt {
		parts = append(parts, fmt.Sprintf("cross-reference rebuilt by scanning (%d objects)", d.Objects))
	}
	if d.PagesLost() {
		parts = append(parts, fmt.Sprintf("%d of %d pages found", d.Pages, d.PagesDeclared))
	}
	return strings.Join(parts, ", ")
}

// DamagedError tells a file's damage; it wraps ErrNeedsRepair.
type DamagedError struct {
	File   string
	Damage Damage
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("pdf: %s is damaged (%s): signing it needs a repair", e.File, e.Damage)
}

func (e *DamagedError) Unwrap() error { return ErrNeedsRepair }

// Inspect reads the PDF at path as signing it with o would, and returns
// its damage: nil for a sound file; for a damaged one, what signing it
// with Options.Repair would rebuild. A file that cannot be read at all
// (not a PDF, damaged past repairing), or not signed as o says (an
// encrypted one that o.Password does not open, or whose permissions
// forbid that signature), returns the error signing would.
func Inspect(path string, o Options) (damage *Damage, err error) {
	err = lookAt(path, o.Password, func(doc *document, d *Damage) error {
		damage = d
		return doc.maySign(o)
	})
	return damage, err
}
