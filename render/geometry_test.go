package render

import (
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/requests"
)

// popplerBox is page 1's crop box and rotation as poppler's pdfinfo reads
// them.
func popplerBox(t *testing.T, path string) (box [4]float64, rotate int) {
	t.Helper()
	out, err := exec.Command("pdfinfo", "-box", "-f", "1", "-l", "1", path).Output()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v", filepath.Base(path), err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 7 && f[0] == "Page" && f[2] == "CropBox:":
			fmt.Sscan(strings.Join(f[3:], " "), &box[0], &box[1], &box[2], &box[3])
		case len(f) == 4 && f[0] == "Page" && f[2] == "rot:":
			fmt.Sscan(f[3], &rotate)
		}
	}
	return box, rotate
}

// The geometry of the corpus's turned and shifted pages (DSS's samples with
// a /Rotate and boxes at negative or far coordinates) is the crop box and
// rotation poppler reads, and ToView sends user space where PDFium itself
// draws it (FPDF_PageToDevice, its transform from page to bitmap); FromView
// brings it back.
func TestGeometry(t *testing.T) {
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Skip("pdfinfo (poppler-utils) is not installed")
	}
	files, _ := filepath.Glob(filepath.Join(corpus, "visualSignature__*.pdf"))
	if len(files) == 0 {
		t.Skip("the corpus is not here: ", corpus)
	}
	turns := map[int]int{}
	for _, path := range files {
		name := filepath.Base(path)
		d := open(t, path, nil)
		g, err := d.Geometry(0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		box, rot := popplerBox(t, path)
		if g.Box != box || g.Rotate != rot {
			t.Errorf("%s: box %v rotated %d; poppler reads %v rotated %d", name, g.Box, g.Rotate, box, rot)
		}
		turns[g.Rotate]++
		w, h, _ := d.Size(0)
		if gw, gh := g.Size(); math.Abs(gw-w) > 0.01 || math.Abs(gh-h) > 0.01 {
			t.Errorf("%s: size %.2fx%.2f, PDFium's %.2fx%.2f", name, gw, gh, w, h)
		}
		checkMapping(t, d, g, name)
	}
	for _, r := range []int{0, 90, 180, 270} {
		if turns[r] == 0 {
			t.Errorf("no page turned by %d degrees among the samples", r)
		}
	}
}

// checkMapping compares ToView with PDFium's transform on points across the
// box, on a bitmap ten pixels to the point (PDFium rounds to pixels).
func checkMapping(t *testing.T, d *Document, g Geometry, name string) {
	t.Helper()
	const k = 10
	w, h := g.Size()
	for _, f := range [][2]float64{{0, 0}, {1, 1}, {0.25, 0.75}, {0.9, 0.1}, {0.5, 0.5}} {
		x := g.Box[0] + f[0]*(g.Box[2]-g.Box[0])
		y := g.Box[1] + f[1]*(g.Box[3]-g.Box[1])
		d.r.mu.Lock()
		res, err := d.r.inst.FPDF_PageToDevice(&requests.FPDF_PageToDevice{
			Page: d.page(0), SizeX: int(w * k), SizeY: int(h * k), Rotate: enums.FPDF_PAGE_ROTATION_NONE, PageX: x, PageY: y,
		})
		d.r.mu.Unlock()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		vx, vy := g.ToView(x, y)
		if math.Abs(vx*k-float64(res.DeviceX)) > 1.5 || math.Abs(vy*k-float64(res.DeviceY)) > 1.5 {
			t.Errorf("%s (box %v, rotated %d): (%.1f, %.1f) shown at (%.1f, %.1f), PDFium draws it at (%.1f, %.1f)",
				name, g.Box, g.Rotate, x, y, vx, vy, float64(res.DeviceX)/k, float64(res.DeviceY)/k)
		}
		if bx, by := g.FromView(vx, vy); math.Abs(bx-x) > 1e-9 || math.Abs(by-y) > 1e-9 {
			t.Errorf("%s: FromView(ToView(%.2f, %.2f)) = (%.2f, %.2f)", name, x, y, bx, by)
		}
	}
	r := [4]float64{g.Box[0] + 10, g.Box[1] + 20, 100, 40}
	v := g.RectToView(r)
	if back := g.RectFromView(v); math.Abs(back[0]-r[0])+math.Abs(back[1]-r[1])+math.Abs(back[2]-r[2])+math.Abs(back[3]-r[3]) > 1e-9 {
		t.Errorf("%s: RectFromView(RectToView(%v)) = %v", name, r, back)
	}
	if turned := g.Rotate == 90 || g.Rotate == 270; turned != (v[2] == 40) {
		t.Errorf("%s rotated %d: a 100x40 rectangle shows %.0fx%.0f", name, g.Rotate, v[2], v[3])
	}
}
