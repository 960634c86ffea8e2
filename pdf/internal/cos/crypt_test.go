package cos

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/paraphe/paraphe/internal/testenv"
)

// protect writes a copy of a one-page PDF protected by qpdf with args
// (global options, --encrypt and its own) and returns its bytes, and the
// file key and /P qpdf reports for it.
func protect(t *testing.T, args ...string) (data, key []byte, p int64) {
	t.Helper()
	testenv.Require(t, "qpdf")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	os.WriteFile(in, testenv.OnePagePDF(), 0o644)
	if b, err := exec.Command("qpdf", append(args, "--", in, out)...).CombinedOutput(); err != nil {
		t.Fatalf("qpdf %v: %v\n%s", args, err, b)
	}
	return qpdfKey(t, out)
}

// qpdfKey is a protected file's bytes, and its key and /P as qpdf reads
// them (it opens with the empty password, or the owner's here: "o é").
func qpdfKey(t *testing.T, file string) (data, key []byte, p int64) {
	t.Helper()
	show, err := exec.Command("qpdf", "--password=o é", "--show-encryption-key", "--show-encryption", file).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --show-encryption: %v\n%s", err, show)
	}
	k := regexp.MustCompile(`Encryption key = ([0-9a-f]+)`).FindSubmatch(show)
	pm := regexp.MustCompile(`(?m)^P = (-?\d+)`).FindSubmatch(show)
	if k == nil || pm == nil {
		t.Fatalf("qpdf --show-encryption:\n%s", show)
	}
	key, _ = hex.DecodeString(string(k[1]))
	p, _ = strconv.ParseInt(string(pm[1]), 10, 64)
	data, err = os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data, key, p
}

func openWith(t *testing.T, data []byte, password string) (*File, error) {
	t.Helper()
	return OpenDecrypted(bytesReader(data), int64(len(data)), []byte(password))
}

// Every revision of the standard security handler opens with its user
// password (its permissions apply) and its owner password (they do not),
// to the key qpdf finds; the owner password is taken in PDFDocEncoding
// where the revision wants it ("é" is one byte there); another password
// does not open it.
func TestOpenUserAndOwner(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"RC4-40 R2", []string{"--allow-weak-crypto", "--encrypt", "u", "o é", "40", "--print=n"}},
		{"RC4-128 R3", []string{"--allow-weak-crypto", "--encrypt", "u", "o é", "128", "--use-aes=n", "--modify=none"}},
		{"RC4-128 R4", []string{"--allow-weak-crypto", "--encrypt", "u", "o é", "128", "--use-aes=n", "--force-V4", "--modify=form"}},
		{"AES-128 R4", []string{"--encrypt", "u", "o é", "128", "--use-aes=y", "--modify=annotate"}},
		{"AES-256 R5", []string{"--encrypt", "u", "o é", "256", "--force-R5", "--modify=none"}},
		{"AES-256 R6", []string{"--encrypt", "u", "o é", "256", "--modify=form"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, key, p := protect(t, tc.args...)
			for _, pw := range []struct {
				password string
				owner    bool
			}{{"u", false}, {"o é", true}} {
				f, err := openWith(t, data, pw.password)
				if err != nil {
					t.Fatalf("%q: %v", pw.password, err)
				}
				perms, ok := f.Permissions()
				if !ok || perms.Owner != pw.owner || perms.P != uint32(p) || !bytes.Equal(f.crypt.key, key) {
					t.Fatalf("%q: %+v (qpdf: P %d), key %x (qpdf: %x)", pw.password, perms, p, f.crypt.key, key)
				}
				if perms.Allows(4) != (pw.owner || p&8 != 0) {
					t.Fatalf("%q: modify allowed %v with P %d", pw.password, perms.Allows(4), p)
				}
			}
			for _, wrong := range []string{"", "U", "o e", "o"} {
				if _, err := openWith(t, data, wrong); !errors.Is(err, ErrPassword) {
					t.Fatalf("%q: %v", wrong, err)
				}
			}
		})
	}
}

// Algorithm 2.B stops after 64 rounds at least, at the first whose last
// byte is at most the rounds done less 32: this file (made by qpdf) is
// one where counting them one off gives another key.
func TestRevision6Rounds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "aes256-r6-rounds.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := openWith(t, data, "")
	if err != nil {
		t.Fatal(err)
	}
	// qpdf --show-encryption-key says so.
	if got := hex.EncodeToString(f.crypt.key); got != "57f74f0b9165da1f78a807a04c518b4d81c1c2a3dba9f4aca79e27d2d4643957" {
		t.Fatalf("key %s", got)
	}
}

// Permissions of an AES-256 document whose /P was changed without its key
// (it no longer matches /Perms) allow nothing to its user, and all to its
// owner.
func TestPermsChecked(t *testing.T) {
	data, _, _ := protect(t, "--encrypt", "", "o é", "256", "--modify=none")
	tampered := bytes.Replace(data, []byte("/P -1324"), []byte("/P -0004"), 1)
	if bytes.Equal(tampered, data) {
		t.Fatal("no /P -1324")
	}
	for _, tc := range []struct {
		data []byte
		want uint32
	}{{data, uint32(0xFFFFFAD4)}, {tampered, 0}} {
		f, err := openWith(t, tc.data, "")
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := f.Permissions(); p.P != tc.want || p.Allows(4) {
			t.Fatalf("%+v", p)
		}
	}
	f, err := openWith(t, tampered, "o é")
	if p, _ := f.Permissions(); err != nil || !p.Allows(4) {
		t.Fatalf("owner: %v %+v", err, p)
	}
}

// What Encrypt writes decrypts back to what it was given, object by
// object (the key depends on the object's number), with what the standard
// leaves in clear left in clear: a signature's /Contents, placeholders,
// cross-reference streams; a fresh initialisation vector each time (AES).
func TestEncryptRoundTrip(t *testing.T) {
	for _, args := range [][]string{
		{"--allow-weak-crypto", "--encrypt", "u", "o é", "128", "--use-aes=n"},
		{"--encrypt", "u", "o é", "128", "--use-aes=y"},
		{"--encrypt", "u", "o é", "256"},
	} {
		data, _, _ := protect(t, args...)
		f, err := openWith(t, data, "u")
		if err != nil {
			t.Fatal(err)
		}
		sig := Dict{"Type": Name("Sig"), "ByteRange": Raw("[0 0000 0000 0000]"), "Contents": HexString("signature"),
			"M": String("D:20261201120000+01'00'"), "Reason": HexString("Acte"), "Prop_Build": Dict{"App": Dict{"Name": Array{String("Paraphe")}}}}
		stream := &Stream{Dict: Dict{"Subtype": Name("Form"), "Name": String("stamp")}, Raw: []byte("BT (Marie Dupont) Tj ET")}
		xref := &Stream{Dict: Dict{"Type": Name("XRef")}, Raw: []byte{1, 2, 3}}
		ref := Ref{Num: 12}
		encSig := f.Encrypt(sig, ref).(Dict)
		if !bytes.Equal(encSig["Contents"].(HexString), sig["Contents"].(HexString)) || !bytes.Equal(encSig["ByteRange"].(Raw), sig["ByteRange"].(Raw)) {
			t.Fatalf("%v: /Contents or the placeholder encrypted", args)
		}
		if bytes.Equal(encSig["M"].(String), sig["M"].(String)) || bytes.Equal(f.Encrypt(sig, ref).(Dict)["M"].(String), encSig["M"].(String)) && f.crypt.strings != methodRC4 {
			t.Fatalf("%v: /M not encrypted, or with the same IV twice", args)
		}
		if got := Append(nil, f.crypt.decryptObject(encSig, ref)); !bytes.Equal(got, Append(nil, sig)) {
			t.Fatalf("%v: %s, want %s", args, got, Append(nil, sig))
		}
		// AES-256 has one key for every object (Algorithm 1.A).
		if other := Append(nil, f.crypt.decryptObject(encSig, Ref{Num: 13})); bytes.Equal(other, Append(nil, sig)) != (f.crypt.strings == methodAES256) {
			t.Fatalf("%v: the key of object 13 decrypts object 12", args)
		}
		encStream := f.Encrypt(stream, ref).(*Stream)
		if bytes.Equal(encStream.Raw, stream.Raw) || string(stream.Raw) != "BT (Marie Dupont) Tj ET" {
			t.Fatalf("%v: stream data not encrypted, or its original changed", args)
		}
		back := f.crypt.decryptObject(&Stream{Dict: encStream.Dict, Raw: encStream.Raw}, ref).(*Stream)
		if plain, err := f.StreamData(back); err != nil || string(plain) != string(stream.Raw) || string(back.Dict["Name"].(String)) != "stamp" {
			t.Fatalf("%v: %q %v %v", args, plain, err, back.Dict)
		}
		if enc := f.Encrypt(xref, ref).(*Stream); !bytes.Equal(enc.Raw, xref.Raw) {
			t.Fatalf("%v: a cross-reference stream encrypted", args)
		}
	}
}
