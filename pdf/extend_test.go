package pdf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/cms"
	"github.com/paraphe/paraphe/internal/testenv"
)

// dssCerts reads every certificate of the file's /DSS (qpdf walks it, not
// our reader), and the keys of its /VRI.
func dssCerts(t *testing.T, file string) ([]*x509.Certificate, []string) {
	t.Helper()
	dss := dssOf(t, file)
	var certs []*x509.Certificate
	v := dss["/Certs"]
	if ref, ok := v.(string); ok {
		v = qpdfObject(t, file, ref)
	}
	arr, _ := v.([]any)
	for _, r := range arr {
		data := qpdfStream(t, file, r.(string))
		c, err := x509.ParseCertificate(data)
		if err != nil {
			t.Fatalf("/DSS certificate %s: %v", r, err)
		}
		certs = append(certs, c)
	}
	vri := qpdfDict(t, file, dss["/VRI"])
	var keys []string
	for k := range vri {
		keys = append(keys, k)
	}
	return certs, keys
}

func holds(certs []*x509.Certificate, want ...*x509.Certificate) bool {
	for _, w := range want {
		found := false
		for _, c := range certs {
			found = found || c.Equal(w)
		}
		if !found {
			return false
		}
	}
	return true
}

// TestSignBLTA: paraphe sign --level B-LTA gives a file pdfsig calls valid,
// whose document time-stamp iText 5 sees covering the whole file, with
// every certificate of the signer's and the time-stamping unit's chains in
// the /DSS and a /VRI entry; our verifier says B-LTA. Extending it again
// (archive refresh) adds a second time-stamp that proves the first.
func TestSignBLTA(t *testing.T) {
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	hc := caClient(t, srv)
	tsaCert := tsaCertOf(t, srv, hc)
	s := &Signer{Key: key, Chain: []*x509.Certificate{leaf, srv.Issuer, srv.Root}, Opts: Options{Level: LevelLTA, TSA: srv.URL + "/tsa", HTTP: hc}}
	out := signWith(t, s, makePDF(1, false))
	if r := pdfsig(t, nssDB(t, srv.Root), out); !strings.Contains(r, "Signature is Valid") || strings.Count(r, "Signature #") != 2 {
		t.Fatalf("pdfsig:\n%s", r)
	}
	verdicts := testenv.Java(t).VerifyIText(t, out)
	if len(verdicts) != 2 || verdicts[1].Type != "DocTimeStamp" || !verdicts[1].CoversWholeDocument || verdicts[0].Integrity != "true" {
		t.Fatalf("iText: %+v", verdicts)
	}
	certs, vri := dssCerts(t, out)
	if !holds(certs, leaf, srv.Issuer, srv.Root, tsaCert) || len(vri) == 0 {
		t.Fatalf("/DSS: %d certificates (both chains: %v), /VRI %v", len(certs), holds(certs, leaf, srv.Issuer, srv.Root, tsaCert), vri)
	}
	o := VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy, Name: "root"}}}
	rep, err := Verify(context.Background(), out, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 2 || rep.Signatures[0].Level != LevelLTA || !rep.Signatures[0].Valid() ||
		rep.Signatures[1].Kind != KindDocumentTimestamp || !rep.Signatures[1].Valid() {
		t.Fatalf("verify: %+v", rep.Signatures)
	}

	// Archive refresh: a second document time-stamp, over validation data
	// for the first one's unit.
	again := filepath.Join(t.TempDir(), "refreshed.pdf")
	e := &Extender{Level: LevelLTA, TSA: srv.URL + "/tsa", HTTP: hc}
	if _, err := e.ExtendFile(context.Background(), out, again); err != nil {
		t.Fatal(err)
	}
	rep, err = Verify(context.Background(), again, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signatures) != 3 || !rep.Signatures[0].Valid() || !rep.Signatures[1].Valid() || !rep.Signatures[2].Valid() ||
		rep.Signatures[1].ProofTime == nil {
		t.Fatalf("after a refresh: %+v", rep.Signatures)
	}
	// Years later, with the time-stamping unit's certificate expired: the
	// refreshed archive still proves the signature (its newest time-stamp
	// stands now; each older one is judged at its own time).
	later := VerifyOptions{Trust: o.Trust, Now: func() time.Time { return tsaCert.NotAfter.Add(-time.Hour) }}
	if rep, err = Verify(context.Background(), again, later); err != nil || !rep.Signatures[0].Valid() {
		t.Fatalf("just before the unit's certificate expires: %v %+v", err, rep)
	}
}

// TestExtendOthers: a B-T signature made by iText 5 becomes B-LTA with
// paraphe's extender: the /DSS gains every certificate of both chains,
// fetched OCSP responses and CRLs, a /VRI entry; pdfsig and our verifier
// agree.
func TestExtendOthers(t *testing.T) {
	j := testenv.Java(t)
	srv := testenv.StartCA(t, ca.InitOptions{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := srv.Issue(t, key)
	hc := caClient(t, srv)
	p12, pw := testenv.WritePKCS12(t, key, []*x509.Certificate{leaf, srv.Issuer})
	rootPEM := testenv.WriteCertsPEM(t, srv.Root)
	dir := t.TempDir()
	in, bt := filepath.Join(dir, "deed.pdf"), filepath.Join(dir, "bt.pdf")
	os.WriteFile(in, makePDF(2, true), 0o644)
	for _, r := range j.Run(t, testenv.JavaJob{Op: "sign", Producer: "itext", In: in, Out: bt, PKCS12: p12, Password: pw,
		SubFilter: "ETSI.CAdES.detached", TSA: srv.URL + "/tsa", TLSRoot: rootPEM, Field: "Notary"}) {
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	}
	o := VerifyOptions{Trust: []Anchor{{Cert: srv.Root, Source: SourcePolicy, Name: "root"}}}
	for _, level := range []Level{LevelLT, LevelLTA} {
		out := filepath.Join(dir, string(level)+".pdf")
		res, err := (&Extender{Level: level, TSA: srv.URL + "/tsa", HTTP: hc}).ExtendFile(context.Background(), bt, out)
		if err != nil {
			t.Fatal(err)
		}
		if res.Fetched == 0 {
			t.Fatal("nothing fetched for a B-T document")
		}
		if r := pdfsig(t, nssDB(t, srv.Root), out); !strings.Contains(r, "Signature is Valid") || !strings.Contains(r, "Certificate is Trusted") {
			t.Fatalf("%s pdfsig:\n%s", level, r)
		}
		certs, vri := dssCerts(t, out)
		if !holds(certs, leaf, srv.Issuer, srv.Root, tsaCertOf(t, srv, hc)) || len(vri) != 1 {
			t.Fatalf("%s /DSS: %d certificates, /VRI %v", level, len(certs), vri)
		}
		rep, err := Verify(context.Background(), out, o)
		if err != nil {
			t.Fatal(err)
		}
		if r := rep.Signatures[0]; r.Level != level || !r.Valid() || r.Revocation != RevocationGood {
			t.Fatalf("%s: %s %s revocation %s %v", level, r.Level, r.Indication, r.Revocation, r.Problems)
		}
		if orig, _ := os.ReadFile(bt); !strings.HasPrefix(string(mustRead(t, out)), string(orig)) {
			t.Fatal("the signed bytes were not kept")
		}
	}
	// An unsigned document has nothing to extend.
	if _, err := (&Extender{Level: LevelLT, HTTP: hc}).ExtendFile(context.Background(), in, filepath.Join(dir, "x.pdf")); err != ErrNothingToExtend {
		t.Fatalf("unsigned: %v", err)
	}
}

// tsaCertOf is the certificate of the CA's time-stamping unit, from a
// token it makes.
func tsaCertOf(t *testing.T, srv *testenv.CA, hc *http.Client) *x509.Certificate {
	t.Helper()
	s := &Signer{Opts: Options{TSA: srv.URL + "/tsa", HTTP: hc}}
	token, err := s.tokenSample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := cms.ParseTimestamp(token)
	if err != nil {
		t.Fatal(err)
	}
	return ts.Signer()
}

// qpdfStream is the decoded data of stream ref, as qpdf reads it.
func qpdfStream(t *testing.T, file, ref string) []byte {
	t.Helper()
	var num, gen int
	if _, err := fmt.Sscanf(ref, "%d %d R", &num, &gen); err != nil {
		t.Fatalf("not a reference: %q", ref)
	}
	out, err := exec.Command("qpdf", fmt.Sprintf("--show-object=%d,%d", num, gen), "--filtered-stream-data", file).Output()
	if err != nil {
		t.Fatalf("qpdf stream %s: %v", ref, err)
	}
	return out
}
