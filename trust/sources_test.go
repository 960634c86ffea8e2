package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paraphe/paraphe/pdf"
	"github.com/paraphe/paraphe/trust/tltest"
)

func TestSources(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy")
	os.Mkdir(policy, 0o755)
	writeFile(t, policy, "it.pem", pemOf(newCA(t, "IT CA")))
	broken := writeFile(t, policy, "broken.pem", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	p7der, _, _ := opensslBundles(t, dir, newCA(t, "AATL 1"), newCA(t, "AATL 2"))
	user := NewStore(filepath.Join(dir, "user"))
	if err := user.AddCertificate(newCA(t, "Colleague")); err != nil {
		t.Fatal(err)
	}

	stale := frList(tltest.Service{Type: tltest.CAQC, Name: "FR CA", Status: tltest.Granted, Start: t2016, Certs: []*x509.Certificate{newCA(t, "FR CA")}})
	stale.Issued = time.Now().AddDate(-1, 0, 0).UTC().Truncate(time.Second)
	stale.NextUpdate = stale.Issued.AddDate(0, 6, 0)
	eu := tltest.NewEU(t, stale, &tltest.List{Territory: "IT"})
	tl := newTrustedLists(t, eu)
	if _, err := tl.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(tl.Cache, "IT.xml"))

	s := Sources{Policy: []string{policy}, Bundles: []string{p7der}, User: user, TrustedLists: tl}
	anchors, errs := s.Anchors()
	count := map[pdf.AnchorSource]int{}
	for _, a := range anchors {
		count[a.Source]++
	}
	if count[pdf.SourcePolicy] != 1 || count[pdf.SourceBundle] != 2 || count[pdf.SourceUser] != 1 || count[pdf.SourceTrustedList] != 1 {
		t.Errorf("anchors by source %v", count)
	}
	var fileErr, staleErr, missing bool
	for _, err := range errs {
		var fe *FileError
		var le *ListError
		switch {
		case errors.As(err, &fe) && fe.Path == broken:
			fileErr = true
		case errors.As(err, &le) && le.Territory == "FR" && errors.Is(err, ErrStale):
			staleErr = true
		case errors.As(err, &le) && le.Territory == "IT" && errors.Is(err, ErrNotCached):
			missing = true
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if !fileErr || !staleErr || !missing {
		t.Errorf("errors %v", errs)
	}

	if anchors, errs := (&Sources{}).Anchors(); len(anchors) != 0 || len(errs) != 0 {
		t.Error("the zero Sources trusts something")
	}
}
