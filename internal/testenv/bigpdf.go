package testenv

import (
	"bufio"
	"fmt"
	"os"
)

// WriteBigPDF writes a valid PDF of about size bytes (one page whose
// content sits next to a large image stream) without holding it in
// memory, for the benchmarks (pdf's and internal/benchtool's).
func WriteBigPDF(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var off int64
	var offs []int64
	put := func(s string) {
		n, _ := w.WriteString(s)
		off += int64(n)
	}
	obj := func(s string) {
		offs = append(offs, off)
		put(fmt.Sprintf("%d 0 obj\n%s\nendobj\n", len(offs), s))
	}
	put("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /Im 5 0 R >> >> >>")
	obj("<< /Length 35 >>\nstream\nq 400 0 0 400 100 300 cm /Im Do Q\nendstream")
	side := int64(1)
	for 3*side*side < size {
		side *= 2
	}
	for 3*side*side > size && side > 1 {
		side--
	}
	n := 3 * side * side
	offs = append(offs, off)
	put(fmt.Sprintf("5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n", side, side, n))
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for left := n; left > 0; {
		k := min(left, int64(len(chunk)))
		w.Write(chunk[:k])
		left -= k
	}
	off += n
	put("\nendstream\nendobj\n")
	xref := off
	put(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f \n", len(offs)+1))
	for _, o := range offs {
		put(fmt.Sprintf("%010d 00000 n \n", o))
	}
	put(fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref))
	return w.Flush()
}
