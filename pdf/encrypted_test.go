package pdf

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf/internal/cos"
)

// qpdfEncrypt protects in with qpdf (a tool nobody here wrote): global
// options, then those of --encrypt (USER OWNER BITS …).
func qpdfEncrypt(t *testing.T, in []byte, global, enc []string) []byte {
	t.Helper()
	testenv.Require(t, "qpdf")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "plain.pdf"), filepath.Join(dir, "protected.pdf")
	os.WriteFile(src, in, 0o644)
	args := append(append(append(global, "--encrypt"), enc...), "--", src, dst)
	if out, err := exec.Command("qpdf", args...).CombinedOutput(); err != nil {
		t.Fatalf("qpdf %v: %v\n%s", args, err, out)
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// qpdfEncryption is what qpdf --show-encryption says of file, opened with
// password, without the line that depends on the password given.
func qpdfEncryption(t *testing.T, file, password string) string {
	t.Helper()
	out, err := exec.Command("qpdf", "--show-encryption", "--password="+password, file).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --show-encryption: %v\n%s", err, out)
	}
	return regexp.MustCompile(`(?m)^Supplied password is .*\n`).ReplaceAllString(string(out), "")
}

// nssDBTrusting is an NSS database trusting roots, as pdfsig reads it.
func nssDBTrusting(t *testing.T, roots ...*x509.Certificate) string {
	t.Helper()
	db := nssDB(t, roots[0])
	for i, r := range roots[1:] {
		p := filepath.Join(db, "more.pem")
		writePEM(t, p, r)
		if out, err := exec.Command("certutil", "-A", "-d", "sql:"+db, "-n", fmt.Sprint("root ", i+2), "-t", "C,C,C", "-i", p).CombinedOutput(); err != nil {
			t.Fatalf("certutil -A: %v\n%s", err, out)
		}
	}
	return db
}

// The standard security handler in each of its forms, as qpdf makes them:
// the user password is "utilisateur", the owner's "propriétaire".
var encryptions = []struct {
	name        string
	global, enc []string
}{
	{"RC4-40 R2", []string{"--allow-weak-crypto"}, []string{"40"}},
	{"RC4-128 R3", []string{"--allow-weak-crypto"}, []string{"128", "--use-aes=n"}},
	{"RC4-128 R4", []string{"--allow-weak-crypto"}, []string{"128", "--use-aes=n", "--force-V4"}},
	{"AES-128 R4", nil, []string{"128", "--use-aes=y"}},
	{"AES-128 R4 xref stream", []string{"--object-streams=generate"}, []string{"128", "--use-aes=y"}},
	{"AES-256 R5", nil, []string{"256", "--force-R5"}},
	{"AES-256 R6", nil, []string{"256"}},
	{"AES-256 R6 xref stream", []string{"--object-streams=generate"}, []string{"256"}},
}

const userPW, ownerPW = "utilisateur", "propriétaire"

// Signing encrypted documents: a visible signature with the user password,
// then a second one with the owner password. The updates stay encrypted
// with the document's key (qpdf reports the same protection and finds no
// error; pdftotext reads the stamp's text from its encrypted streams; the
// reason does not show in clear in the file), poppler's pdfsig and our
// verifier, given the password, find both signatures valid; the input is
// untouched; without the password, or with a wrong one, nothing is signed.
func TestSignEncrypted(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig", "pdftotext")
	p := newPKI(t)
	const reason = "Acte authentique chiffré"
	for _, e := range encryptions {
		t.Run(e.name, func(t *testing.T) {
			// The second signer has a PKI of its own: pdfsig (NSS) does not
			// judge one certificate twice in a run.
			p2 := newPKI(t)
			db := nssDBTrusting(t, p.root, p2.root)
			trust := []Anchor{{Cert: p.root, Source: SourcePolicy, Name: "root"}, {Cert: p2.root, Source: SourcePolicy, Name: "root 2"}}
			orig := qpdfEncrypt(t, makePDF(2, true), e.global, append([]string{userPW, ownerPW}, e.enc...))
			dir := t.TempDir()
			in := filepath.Join(dir, "deed.pdf")
			os.WriteFile(in, orig, 0o644)
			protection := qpdfEncryption(t, in, userPW)
			sign := func(in, out string, o Options) (*Result, error) {
				s := &Signer{Key: p.key, Chain: p.chain(), Opts: o}
				if o.Password != nil && string(o.Password) == ownerPW {
					s.Key, s.Chain = p2.key, p2.chain()
				}
				return s.SignFile(context.Background(), in, out)
			}

			// No password, a wrong one: refused, nothing written.
			for pw, want := range map[string]error{"": ErrPassword, "utilisateurs": ErrWrongPassword} {
				out := filepath.Join(dir, "refused.pdf")
				if _, err := sign(in, out, Options{Password: []byte(pw)}); !errorsIs(err, want) {
					t.Fatalf("password %q: %v, want %v", pw, err, want)
				}
				if _, err := os.Stat(out); err == nil {
					t.Fatalf("password %q: an output was written", pw)
				}
			}

			app := &Appearance{Page: 1, Rect: [4]float64{330, 60, 220, 80}, Image: pngSeal(), Zone: time.UTC,
				Labels: Labels{SignedBy: "Signé numériquement par", Member: "N° d'inscription", Date: "Date", DateLayout: "02/01/2006 15:04 MST"}}
			once := filepath.Join(dir, "once.pdf")
			if _, err := sign(in, once, Options{Password: []byte(userPW), Reason: reason, Location: "Saint-Étienne", Appearance: app}); err != nil {
				t.Fatal(err)
			}
			twice := filepath.Join(dir, "twice.pdf")
			if _, err := sign(once, twice, Options{Password: []byte(ownerPW), Reason: "Second signataire"}); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(in); !bytes.Equal(got, orig) {
				t.Fatal("the input changed")
			}
			signed, _ := os.ReadFile(twice)
			if first, _ := os.ReadFile(once); !bytes.HasPrefix(signed, first) || !bytes.HasPrefix(first, orig) {
				t.Fatal("not incremental updates")
			}
			// Text strings are written in hexadecimal (textString): not so
			// in the updates, where they are encrypted.
			for _, text := range []string{reason, "Saint-Étienne", "Second signataire"} {
				if clear := cos.Append(nil, textString(text)); bytes.Contains(signed[len(orig):], clear) {
					t.Fatalf("%q is in clear in the update", text)
				}
			}

			if got := qpdfEncryption(t, twice, userPW); got != protection {
				t.Errorf("the protection changed:\n%s\nwas:\n%s", got, protection)
			}
			out, err := exec.Command("qpdf", "--check", "--password="+userPW, twice).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors found") {
				t.Errorf("qpdf --check: %v\n%s", err, out)
			}
			text, err := exec.Command("pdftotext", "-upw", userPW, "-f", "1", "-l", "1", twice, "-").CombinedOutput()
			if err != nil || !strings.Contains(string(text), "Marie Dupont") || !strings.Contains(string(text), "Saint-Étienne") {
				t.Errorf("pdftotext does not read the stamp: %v\n%s", err, text)
			}
			report := pdfsig(t, db, twice, "-upw", userPW)
			if strings.Count(report, "Signature is Valid") != 2 || strings.Count(report, "Certificate is Trusted") != 2 ||
				!strings.Contains(report, "Total document signed") {
				t.Errorf("pdfsig:\n%s", report)
			}

			rep, err := Verify(context.Background(), twice, VerifyOptions{Trust: trust, Password: []byte(userPW)})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Signatures) != 2 {
				t.Fatalf("%d signatures", len(rep.Signatures))
			}
			for _, s := range rep.Signatures {
				if s.Indication != TotalPassed {
					t.Errorf("%s: %s %s", s.Field, s.Indication, s.SubIndication)
				}
			}
			if rep.Signatures[0].Reason != reason {
				t.Errorf("reason %q", rep.Signatures[0].Reason)
			}
			if _, err := Verify(context.Background(), twice, VerifyOptions{Trust: trust, Password: []byte("x")}); !errorsIs(err, ErrWrongPassword) {
				t.Errorf("verify with a wrong password: %v", err)
			}
		})
	}
}

// checkSigned: pdfsig (given the password) and our verifier find every
// signature of file valid (n of them, the last timestamps of which are
// document time-stamps, which pdfsig does not judge), and qpdf finds no
// error in it.
func checkSigned(t *testing.T, file, password string, n, timestamps int, roots ...*x509.Certificate) *Report {
	t.Helper()
	var args []string
	if password != "" {
		args = []string{"-upw", password}
	}
	r := pdfsig(t, nssDBTrusting(t, roots...), file, args...)
	if strings.Count(r, "Signature is Valid") != n-timestamps || strings.Count(r, "Certificate is Trusted") != n-timestamps {
		t.Errorf("pdfsig:\n%s", r)
	}
	if out, err := exec.Command("qpdf", "--check", "--password="+password, file).CombinedOutput(); err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	var trust []Anchor
	for _, r := range roots {
		trust = append(trust, Anchor{Cert: r, Source: SourcePolicy, Name: r.Subject.CommonName})
	}
	rep, err := Verify(context.Background(), file, VerifyOptions{Trust: trust, Password: []byte(password)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != n {
		t.Fatalf("%d signatures, want %d", len(rep.Signatures), n)
	}
	for _, s := range rep.Signatures {
		if s.Indication != TotalPassed {
			t.Errorf("%s: %s %s", s.Field, s.Indication, s.SubIndication)
		}
	}
	return rep
}

// A document protected against changes (its user password empty, as most
// are) is signed as its permissions allow (ISO 32000-2 table 22): a new
// signature field needs bits 4 and 6, filling an existing one bit 6 or 9, a
// certification bit 4; its owner password allows everything. Refused, no
// file is written. Permissions of an AES-256 document changed without its
// key (/P no longer matching /Perms) allow nothing.
func TestSignEncryptedPermissions(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig")
	p := newPKI(t)
	field := &Appearance{Field: "Notaire"}
	for _, bits := range [][]string{{"128", "--use-aes=y"}, {"256"}} {
		for _, tc := range []struct {
			modify   string
			password string
			o        Options
			want     error
		}{
			{"none", "", Options{}, ErrPermission},
			{"none", "", Options{Appearance: field}, ErrPermission},
			{"none", "mot de passe faux", Options{}, ErrWrongPassword},
			{"none", ownerPW, Options{}, nil},
			{"none", ownerPW, Options{Appearance: field, Certify: true}, nil},
			{"form", "", Options{}, ErrPermission}, // bit 9 only: filling fields
			{"form", "", Options{Appearance: field}, nil},
			{"form", "", Options{Appearance: field, Certify: true}, ErrPermission},
			{"annotate", "", Options{}, ErrPermission}, // bits 6 and 9, not 4
			{"annotate", "", Options{Appearance: field}, nil},
			{"all", "", Options{}, nil},
			{"all", "", Options{Certify: true}, nil},
		} {
			name := fmt.Sprintf("AES-%s %s password %q field %v certify %v", bits[0], tc.modify, tc.password, tc.o.Appearance != nil, tc.o.Certify)
			t.Run(name, func(t *testing.T) {
				enc := append(append([]string{"", ownerPW}, bits...), "--modify="+tc.modify)
				orig := qpdfEncrypt(t, withEmptyField(t), nil, enc)
				tc.o.Password = []byte(tc.password)
				in, res, err := signFile(t, p, orig, tc.o)
				if got, _ := os.ReadFile(in); !bytes.Equal(got, orig) {
					t.Fatal("the input changed")
				}
				if !errorsIs(err, tc.want) {
					t.Fatalf("%v, want %v", err, tc.want)
				}
				if err != nil {
					if _, serr := os.Stat(OutputName(in)); serr == nil {
						t.Fatal("refused, yet an output was written")
					}
					return
				}
				checkSigned(t, res.Output, "", 1, 0, p.root)
			})
		}
	}

	// /P edited to allow everything, in a document that forbids changes:
	// revisions 2-4 make the key from /P (the empty password no longer
	// opens it), AES-256 checks it against /Perms (nothing is allowed).
	rc := qpdfEncrypt(t, makePDF(1, false), nil, []string{"", ownerPW, "128", "--use-aes=y", "--modify=none"})
	if _, _, err := signFile(t, p, bytes.Replace(rc, []byte("/P -1324"), []byte("/P -0004"), 1), Options{}); !errorsIs(err, ErrPassword) {
		t.Fatalf("tampered permissions, AES-128: %v", err)
	}
	orig := qpdfEncrypt(t, makePDF(1, false), nil, []string{"", ownerPW, "256", "--modify=none"})
	tampered := bytes.Replace(orig, []byte("/P -1324"), []byte("/P -0004"), 1)
	if bytes.Equal(tampered, orig) {
		t.Fatal("no /P -1324 in the encryption dictionary")
	}
	if _, _, err := signFile(t, p, tampered, Options{}); !errorsIs(err, ErrPermission) {
		t.Fatalf("tampered permissions: %v", err)
	}
	if _, res, err := signFile(t, p, tampered, Options{Password: []byte(ownerPW)}); err != nil || res == nil {
		t.Fatalf("tampered permissions, owner password: %v", err)
	}
}

// The protected documents of DSS's samples (made by other producers):
// signed where their permissions allow, refused where they do not.
func TestSignEncryptedDSSSamples(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig")
	if _, err := os.Stat(dssCorpus); err != nil {
		testenv.Missing(t, "no DSS corpus at "+dssCorpus+" (../shared/corpus beside the repository)")
	}
	p := newPKI(t)
	for _, tc := range []struct {
		file, password, field string
		want                  error
	}{
		{"protected__edition_protected_none.pdf", "", "", ErrPermission},
		{"protected__edition_protected_signing_allowed_no_field.pdf", "", "", ErrPermission},
		{"protected__edition_protected_signing_allowed_with_field.pdf", "", "", ErrPermission},
		{"protected__edition_protected_signing_allowed_with_field.pdf", "", "Signature1", nil},
		{"protected__open_protected.pdf", "", "", ErrPassword},
		{"protected__open_protected.pdf", " ", "", nil},
		{"protected__protected_two_empty_fields.pdf", " ", "SignatureField2", nil},
	} {
		t.Run(tc.file+" "+tc.field, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join(dssCorpus, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			o := Options{Password: []byte(tc.password)}
			if tc.field != "" {
				o.Appearance = &Appearance{Field: tc.field}
			}
			_, res, err := signFile(t, p, orig, o)
			if !errorsIs(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			if err == nil {
				checkSigned(t, res.Output, tc.password, 1, 0, p.root)
			}
		})
	}
}

// B-LTA on encrypted documents: the validation data (/DSS streams) and the
// document time-stamp are encrypted like the rest; qpdf, decrypting the
// /DSS itself, finds every certificate of both chains there; pdfsig and our
// verifier find both valid, at B-LTA. Extended again (archive refresh),
// with the password, a third time-stamp joins them.
func TestSignEncryptedBLTA(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig")
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	hc := caClient(t, srv)
	tsaCert := tsaCertOf(t, srv, hc)
	for _, tc := range []struct {
		name, user  string
		global, enc []string
	}{
		{"AES-256 R6, empty user password", "", nil, []string{"256"}},
		{"RC4-128 R3", userPW, []string{"--allow-weak-crypto"}, []string{"128", "--use-aes=n"}},
		{"AES-128 R4 xref stream", userPW, []string{"--object-streams=generate"}, []string{"128", "--use-aes=y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := qpdfEncrypt(t, makePDF(1, true), tc.global, append([]string{tc.user, ownerPW}, tc.enc...))
			s := &Signer{Key: key, Chain: []*x509.Certificate{leaf, srv.Issuer, srv.Root},
				Opts: Options{Level: LevelLTA, TSA: srv.URL + "/tsa", HTTP: hc, Password: []byte(tc.user)}}
			out := signWith(t, s, orig)
			rep := checkSigned(t, out, tc.user, 2, 1, srv.Root)
			if rep.Signatures[0].Level != LevelLTA || rep.Signatures[1].Kind != KindDocumentTimestamp {
				t.Fatalf("%s, %s", rep.Signatures[0].Level, rep.Signatures[1].Kind)
			}
			if tc.user == "" {
				if certs, vri := dssCerts(t, out); !holds(certs, leaf, srv.Issuer, srv.Root, tsaCert) || len(vri) == 0 {
					t.Fatalf("/DSS as qpdf decrypts it: %d certificates, /VRI %v", len(certs), vri)
				}
			}
			again := filepath.Join(t.TempDir(), "refreshed.pdf")
			e := &Extender{Level: LevelLTA, TSA: srv.URL + "/tsa", HTTP: hc}
			if tc.user != "" {
				if _, err := e.ExtendFile(context.Background(), out, again); !errorsIs(err, ErrPassword) {
					t.Fatalf("extended without the password: %v", err)
				}
			}
			e.Password = []byte(ownerPW)
			if _, err := e.ExtendFile(context.Background(), out, again); err != nil {
				t.Fatal(err)
			}
			checkSigned(t, again, tc.user, 3, 2, srv.Root)
		})
	}
}

// A damaged encrypted document is rebuilt with its encryption when a
// trailer naming its /Encrypt survives (here: one signed, then cut in the
// middle of that update), and signed encrypted; one cut before any
// trailer cannot be read as it was (its strings and streams would be
// noise, and the update in clear): past repairing.
func TestSignEncryptedDamaged(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig")
	p := newPKI(t)
	orig := qpdfEncrypt(t, makePDF(1, true), nil, []string{"", ownerPW, "128", "--use-aes=y"})
	_, once := signBytes(t, p, orig, Options{Reason: "Premier"})
	signed := mustRead(t, once)
	cut := signed[:len(orig)+(len(signed)-len(orig))/2]
	_, res, err := signFile(t, p, cut, Options{})
	var damaged *DamagedError
	if !errors.As(err, &damaged) {
		t.Fatalf("cut in its update: %v", err)
	}
	if _, res, err = signFile(t, p, cut, Options{Repair: true}); err != nil {
		t.Fatal(err)
	}
	if res.Repaired == nil || !res.Repaired.Truncated {
		t.Fatalf("repaired: %+v", res.Repaired)
	}
	if got := qpdfEncryption(t, res.Output, ""); got != qpdfEncryption(t, writeTemp(t, orig), "") {
		t.Fatalf("the protection changed:\n%s", got)
	}
	// The cut object stays in the file (its bytes are never changed):
	// qpdf warns about it, but does not find the file damaged.
	if out, _ := exec.Command("qpdf", "--check", res.Output).CombinedOutput(); bytes.Contains(out, []byte("file is damaged")) {
		t.Fatalf("qpdf --check:\n%s", out)
	}
	if r := pdfsig(t, nssDB(t, p.root), res.Output); !strings.Contains(r, "Signature is Valid") {
		t.Fatalf("pdfsig:\n%s", r)
	}

	// Cut after its encryption dictionary (qpdf writes it last), before
	// the trailer.
	at := bytes.Index(orig, []byte("/Filter /Standard"))
	end := bytes.LastIndex(orig, []byte("trailer"))
	if at < 0 || end < at {
		t.Fatalf("/Filter /Standard at %d, trailer at %d", at, end)
	}
	if _, _, err := signFile(t, p, orig[:end], Options{Repair: true}); !errorsIs(err, ErrDamaged) {
		t.Fatalf("cut before its trailer: %v", err)
	}
}

// Fields prepared in an encrypted document (opened by its empty user
// password) are encrypted like a signature's update, and signed into
// afterwards; a document whose permissions forbid new fields gets none.
func TestAddFieldsEncrypted(t *testing.T) {
	testenv.Require(t, "qpdf", "pdfsig")
	p := newPKI(t)
	dir := t.TempDir()
	nf := NewField{Name: "Vendeur", Page: 1, Rect: [4]float64{40, 60, 220, 70}}
	for _, modify := range []string{"all", "form"} {
		in := filepath.Join(dir, modify+".pdf")
		os.WriteFile(in, qpdfEncrypt(t, makePDF(1, false), nil, []string{"", ownerPW, "256", "--modify=" + modify}), 0o644)
		prepared := filepath.Join(dir, modify+"-prepared.pdf")
		err := AddFields(in, prepared, nf)
		if modify == "form" {
			if !errorsIs(err, ErrPermission) {
				t.Fatalf("fields added where the permissions forbid it: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if clear := cos.Append(nil, textString("Vendeur")); bytes.Contains(mustRead(t, prepared)[len(mustRead(t, in)):], clear) {
			t.Fatal("the field's name is in clear")
		}
		if fields, err := Fields(prepared); err != nil || len(fields) != 1 || fields[0].Name != "Vendeur" || fields[0].Signed {
			t.Fatalf("%v %+v", err, fields)
		}
		s := &Signer{Key: p.key, Chain: p.chain(), Opts: Options{Appearance: &Appearance{Field: "Vendeur"}}}
		res, err := s.SignFile(context.Background(), prepared, filepath.Join(dir, modify+"-signed.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		checkSigned(t, res.Output, "", 1, 0, p.root)
	}
}
