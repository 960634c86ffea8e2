package pdf

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// pdfcpu, another implementation in Go, validates a B-LT signature of
// paraphe-ca's certificate: PAdES subfilter, certificate path to the root in
// its local store, revocation from the CA's plain-HTTP OCSP responder or CRL
// (loopback has to be allowed explicitly), no problem found.
func TestPdfcpuValidates(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	srv, key, chain, hc := caPKI(t)
	s := &Signer{Key: key, Chain: chain, Opts: Options{Level: LevelT, TSA: srv.URL + "/tsa", HTTP: hc}}
	out := signWith(t, s, makePDF(1, true))

	conf := model.NewDefaultConfiguration()
	// Our CA is on loopback, which pdfcpu refuses unless told.
	conf.AllowedRevocationHosts = []string{"127.0.0.1"}
	certs := t.TempDir()
	writePEM(t, filepath.Join(certs, "root.pem"), srv.Root)
	model.TrustedCertDir = certs
	pdfcpu.InvalidateCertificatePool()
	if err := pdfcpu.LoadCertificates(); err != nil {
		t.Fatal(err)
	}
	res, err := api.ValidateSignatures(out, true, conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("pdfcpu finds %d signatures", len(res))
	}
	if res[0].Status != model.SignatureStatusValid || len(res[0].Problems) > 0 {
		t.Fatalf("pdfcpu: %s", res[0])
	}
	r := res[0].String()
	for _, want := range []string{"ETSI.CAdES.detached", "certificate path resolved using the configured local certificate store"} {
		if !strings.Contains(r, want) {
			t.Errorf("pdfcpu does not say %q:\n%s", want, r)
		}
	}
	for _, bad := range []string{"digest", "mismatch", "signature is invalid", "docmodified: true"} {
		if strings.Contains(strings.ToLower(r), bad) {
			t.Errorf("pdfcpu says %q:\n%s", bad, r)
		}
	}

	// B-LT: pdfcpu 0.15 does not read /VRI, which Acrobat's "LTV enabled"
	// wants, and then leaves the time-stamp unauthenticated; it must find
	// nothing else to say, and nothing invalid.
	s.Opts.Level = LevelLT
	out = signWith(t, s, makePDF(1, true))
	if res, err = api.ValidateSignatures(out, true, conf); err != nil || len(res) != 1 || res[0].Status == model.SignatureStatusInvalid {
		t.Fatalf("pdfcpu on B-LT: %v %v", err, res)
	}
	for _, p := range res[0].Problems {
		if p != "DSS dict entry VRI: unsupported" && p != "pkcs7: embedded timestamp token observed but not fully authenticated" {
			t.Fatalf("pdfcpu on B-LT: %s", res[0])
		}
	}
}
