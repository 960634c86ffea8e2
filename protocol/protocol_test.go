package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestRefCodeRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := NewRefCode()
		if len(c) != 19 || strings.Count(c, "-") != 3 {
			t.Fatalf("bad shape %q", c)
		}
		if seen[c] {
			t.Fatalf("duplicate code %q", c)
		}
		seen[c] = true
		got, err := ParseRefCode(strings.ToLower(strings.ReplaceAll(c, "-", " ")))
		if err != nil || got != c {
			t.Fatalf("ParseRefCode(%q) = %q, %v", c, got, err)
		}
	}
}

func TestRefCodeCatchesTypos(t *testing.T) {
	for range 200 {
		c := strings.ReplaceAll(NewRefCode(), "-", "")
		// every single-symbol substitution is caught
		for i := range c {
			for _, r := range refAlphabet {
				if byte(r) == c[i] {
					continue
				}
				typo := c[:i] + string(r) + c[i+1:]
				if _, err := ParseRefCode(typo); !errors.Is(err, ErrRefCheck) {
					t.Fatalf("typo %q of %q: err = %v, want ErrRefCheck", typo, c, err)
				}
			}
		}
	}
}

func TestRefCodeLookalikes(t *testing.T) {
	c := "0000-0000-0000-000"
	c += string(refAlphabet[luhn32([]byte("000000000000000"))])
	got, err := ParseRefCode(strings.ReplaceAll(c[:5], "0", "O") + c[5:])
	if err != nil || got != c {
		t.Fatalf("O read as 0: %q %v", got, err)
	}
}

func TestRefCodeProgress(t *testing.T) {
	c := NewRefCode()
	tests := []struct {
		typed    string
		complete bool
		wantErr  error
	}{
		{"", false, nil},
		{c[:7], false, nil},
		{c, true, nil},
		{c + "A", false, ErrRefFormat},
		{"ABCU", false, ErrRefFormat},
		{"AB?", false, ErrRefFormat},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			complete, err := RefCodeProgress(tt.typed)
			if complete != tt.complete || !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, %v; want %v, %v", complete, err, tt.complete, tt.wantErr)
			}
		})
	}
}

func TestNormalizeAnswer(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Montréal ", "montreal"},
		{"  Saint   Étienne", "saint etienne"},
		{"STRASSE", "strasse"},
		{"Ｍｉｌａｎｏ", "milano"}, // full-width (NFKC)
		{"ﬁdo", "fido"},      // ligature (NFKC)
		{"Ça\tva", "ca va"},
	}
	for _, tt := range tests {
		if got := NormalizeAnswer(tt.a); got != tt.b {
			t.Errorf("NormalizeAnswer(%q) = %q, want %q", tt.a, got, tt.b)
		}
	}
	if NormalizeAnswer("Rome") == NormalizeAnswer("Milan") {
		t.Fatal("different answers normalised alike")
	}
}

func TestEnrollPassword(t *testing.T) {
	p := EnrollPassword("code", []byte("spki"))
	if !CheckEnrollPassword("code", []byte("spki"), p) {
		t.Fatal("password does not check")
	}
	if CheckEnrollPassword("code", []byte("other key"), p) || CheckEnrollPassword("other", []byte("spki"), p) {
		t.Fatal("password checks for another key or code")
	}
}

func TestCertsOnlyRoundTrip(t *testing.T) {
	var certs []*x509.Certificate
	for i := range 2 {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "t"}, NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		certs = append(certs, c)
	}
	der, err := MarshalCertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCertsOnly(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(certs[0]) || !got[1].Equal(certs[1]) {
		t.Fatal("certificates differ after round trip")
	}
	if _, err := ParseCertsOnly(der[:len(der)-3]); err == nil {
		t.Fatal("truncated PKCS#7 parsed")
	}
}

func TestCSRAttrs(t *testing.T) {
	for _, kt := range []string{KeyECDSAP256, KeyRSA3072} {
		der, err := MarshalCSRAttrs(kt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCSRAttrs(der)
		if err != nil || got != kt {
			t.Errorf("%s: got %q, %v", kt, got, err)
		}
	}
	if _, err := MarshalCSRAttrs("dsa"); err == nil {
		t.Fatal("unknown key type accepted")
	}
}

func TestNormalizeAnswerIdempotent(t *testing.T) {
	for r := rune(0x20); r < 0x20000; r++ {
		s := "a" + string(r) + "b"
		once := NormalizeAnswer(s)
		if twice := NormalizeAnswer(once); twice != once {
			t.Fatalf("U+%04X: %q then %q", r, once, twice)
		}
	}
}
