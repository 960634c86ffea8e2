package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/pdf/internal/cos"
)

func testLetter(password []byte) Letter {
	return Letter{
		Title: "Enveloppe d’activation — signature à distance",
		Lang:  "fr",
		Parts: []LetterPart{
			{Text: "Gardez ce document en lieu sûr : il contient les codes qui protègent votre clé de signature. " +
				"Personne de l’autorité de certification ne vous les demandera jamais."},
			{Label: "Identifiant", Text: "RSH-4K7Q-0OIl"},
			{Label: "Code PUK", Text: "90817263"},
			{Label: "Numéro de série", Text: strings.Repeat("0a1b2c3d", 12)},
		},
		Password: password,
	}
}

func writeLetter(t *testing.T, l Letter) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteLetter(&b, l); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// A protected letter opens in qpdf and poppler with its password, and
// only with it; what it says is there as text (the long serial cut in
// lines), and the file is sound.
func TestLetterProtected(t *testing.T) {
	password := "Ciel étoilé 42!"
	path := writeLetter(t, testLetter([]byte(password)))
	if out, err := run(t, "qpdf", "--check", "--password="+password, path); err != nil || !strings.Contains(out, "No syntax or stream encoding errors") {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := run(t, "qpdf", "--show-encryption", "--password="+password, path)
	if err != nil || !strings.Contains(out, "R = 6") || !strings.Contains(out, "AESv3") {
		t.Fatalf("qpdf --show-encryption: %v\n%s", err, out)
	}
	if !strings.Contains(out, "print high resolution: allowed") || !strings.Contains(out, "modify other: not allowed") {
		t.Fatalf("permissions:\n%s", out)
	}
	plain := filepath.Join(t.TempDir(), "plain.pdf")
	if out, err := run(t, "qpdf", "--decrypt", "--password="+password, path, plain); err != nil {
		t.Fatalf("qpdf --decrypt: %v\n%s", err, out)
	}
	text, err := run(t, "pdftotext", "-upw", password, path, "-")
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	for _, want := range []string{"Enveloppe d’activation", "RSH-4K7Q-0OIl", "90817263", "Numéro de série", "lieu sûr"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not show %q:\n%s", want, text)
		}
	}
	if !strings.Contains(strings.ReplaceAll(text, "\n", ""), strings.Repeat("0a1b2c3d", 12)) {
		t.Errorf("the serial is not whole across its lines:\n%s", text)
	}
	for _, wrong := range []string{"", "ciel étoilé 42!", "Ciel étoilé 42"} {
		if out, err := run(t, "qpdf", "--check", "--password="+wrong, path); err == nil {
			t.Errorf("qpdf opened the letter with %q:\n%s", wrong, out)
		}
	}
	if _, err := run(t, "pdftotext", path, "-"); err == nil {
		t.Error("pdftotext read the letter without its password")
	}
	// Our own reader agrees.
	data, _ := os.ReadFile(path)
	if _, err := cos.OpenDecrypted(bytes.NewReader(data), int64(len(data)), []byte("wrong")); !errors.Is(err, cos.ErrPassword) {
		t.Errorf("wrong password: %v", err)
	}
	f, err := cos.OpenDecrypted(bytes.NewReader(data), int64(len(data)), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := f.Permissions(); !ok || p.Owner || !p.Allows(3) || p.Allows(4) {
		t.Errorf("permissions %+v", p)
	}
	// No secret in clear in the file.
	for _, secret := range []string{"90817263", "RSH-4K7Q"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("%s is in the file in clear", secret)
		}
	}
}

func TestLetterPlain(t *testing.T) {
	path := writeLetter(t, testLetter(nil))
	if out, err := run(t, "qpdf", "--check", path); err != nil || !strings.Contains(out, "File is not encrypted") {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	if err := WriteLetter(&bytes.Buffer{}, Letter{Title: "x", Password: []byte{}}); !errors.Is(err, ErrLetterPassword) {
		t.Fatalf("empty password: %v", err)
	}
}

// A long letter flows onto further pages.
func TestLetterPages(t *testing.T) {
	l := testLetter([]byte("pw"))
	for range 40 {
		l.Parts = append(l.Parts, LetterPart{Label: "Question", Text: "Réponse"})
	}
	path := writeLetter(t, l)
	out, err := run(t, "pdfinfo", "-upw", "pw", path)
	var pages int
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			pages, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if err != nil || pages < 3 {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	text, _ := run(t, "pdftotext", "-upw", "pw", "-f", fmt.Sprint(pages), path, "-")
	if !strings.Contains(text, "Réponse") {
		t.Fatalf("the last page:\n%s", text)
	}
}
