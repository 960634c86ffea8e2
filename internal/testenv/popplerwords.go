package testenv

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// PopplerWord is a word as poppler's pdftotext -bbox finds it on a page as
// a reader shows it (its /Rotate applied): its box in points from the
// page's top left corner, y growing downward.
type PopplerWord struct {
	Text                   string
	XMin, YMin, XMax, YMax float64
}

// PopplerWords reads page (from 1) of file with poppler: its size as
// shown (pdfinfo's size, turned by its rotation) and the words pdftotext
// -bbox finds on it. A reading of the page nobody here wrote.
func PopplerWords(t testing.TB, file string, page int) (width, height float64, words []PopplerWord) {
	t.Helper()
	Require(t, "pdfinfo", "pdftotext")
	n := strconv.Itoa(page)
	info, err := exec.Command("pdfinfo", "-f", n, "-l", n, file).Output()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v", filepath.Base(file), err)
	}
	size := regexp.MustCompile(fmt.Sprintf(`Page\s+%d size:\s+([\d.]+) x ([\d.]+)`, page)).FindSubmatch(info)
	if size == nil {
		t.Fatalf("pdfinfo %s: no size for page %d in\n%s", filepath.Base(file), page, info)
	}
	width, _ = strconv.ParseFloat(string(size[1]), 64)
	height, _ = strconv.ParseFloat(string(size[2]), 64)
	if m := regexp.MustCompile(fmt.Sprintf(`Page\s+%d rot:\s+(\d+)`, page)).FindSubmatch(info); m != nil {
		if rot, _ := strconv.Atoi(string(m[1])); rot%180 == 90 {
			width, height = height, width
		}
	}
	out, err := exec.Command("pdftotext", "-bbox", "-f", n, "-l", n, file, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox %s: %v", filepath.Base(file), err)
	}
	var doc struct {
		Pages []struct {
			Words []struct {
				Text string  `xml:",chardata"`
				XMin float64 `xml:"xMin,attr"`
				YMin float64 `xml:"yMin,attr"`
				XMax float64 `xml:"xMax,attr"`
				YMax float64 `xml:"yMax,attr"`
			} `xml:"word"`
		} `xml:"body>doc>page"`
	}
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	if err := d.Decode(&doc); err != nil || len(doc.Pages) != 1 {
		t.Fatalf("pdftotext -bbox %s: %v (%d pages)\n%s", filepath.Base(file), err, len(doc.Pages), out)
	}
	for _, w := range doc.Pages[0].Words {
		words = append(words, PopplerWord{w.Text, w.XMin, w.YMin, w.XMax, w.YMax})
	}
	return width, height, words
}
