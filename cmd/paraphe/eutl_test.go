package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/trust/tltest"
)

// cmdEUTL serves test EU trusted lists on loopback (trust/tltest): a LOTL
// signed by its own signer, pointing to one national list signed by a
// signer of its territory.
//
//	eutl start TERRITORY PROVIDER SERVICE...
//	    SERVICE is NAME=granted:CERT.pem (a CA/QC service granted for the
//	    last year) or NAME=withdrawn:CERT.pem (granted from a year ago,
//	    withdrawn since yesterday); sets $LOTL_URL and writes lotl-pins.pem,
//	    the certificates allowed to sign the LOTL
//	eutl tamper TERRITORY OLD NEW
//	    serve TERRITORY's list with OLD replaced by NEW after it was signed
func cmdEUTL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: eutl start|tamper …")
	}
	switch {
	case args[0] == "start" && len(args) >= 4:
		startEUTL(ts, args[1], args[2], args[3:])
	case args[0] == "tamper" && len(args) == 4:
		eu := ts.Value(euKey{}).(*euHolder).eu
		if eu == nil {
			ts.Fatalf("eutl tamper: no lists served (eutl start)")
		}
		path := "/" + args[1] + ".xml"
		served := eu.Server.Get(path)
		if !bytes.Contains(served, []byte(args[2])) {
			ts.Fatalf("eutl tamper: %s does not hold %q", path, args[2])
		}
		eu.Server.Put(path, bytes.Replace(served, []byte(args[2]), []byte(args[3]), 1))
	default:
		ts.Fatalf("usage: eutl start TERRITORY PROVIDER NAME=granted|withdrawn:CERT.pem... | eutl tamper TERRITORY OLD NEW")
	}
}

// euKey is where a script's values hold its lists (TestScripts' Setup
// puts an empty holder there: values cannot be added once a script runs).
type euKey struct{}

type euHolder struct{ eu *tltest.EU }

func startEUTL(ts *testscript.TestScript, territory, provider string, services []string) {
	year := time.Now().AddDate(-1, 0, 0)
	list := &tltest.List{Territory: territory, Providers: []tltest.Provider{{Name: provider}}}
	for _, s := range services {
		name, spec, ok1 := strings.Cut(s, "=")
		status, file, ok2 := strings.Cut(spec, ":")
		if !ok1 || !ok2 {
			ts.Fatalf("eutl start: %q is not NAME=granted|withdrawn:CERT.pem", s)
		}
		svc := tltest.Service{Type: tltest.CAQC, Name: name, Certs: []*x509.Certificate{readCert(ts, file)}}
		switch status {
		case "granted":
			svc.Status, svc.Start = tltest.Granted, year
		case "withdrawn":
			svc.Status, svc.Start = tltest.Withdrawn, time.Now().Add(-24*time.Hour)
			svc.History = []tltest.History{{Status: tltest.Granted, Start: year}}
		default:
			ts.Fatalf("eutl start: status %q is neither granted nor withdrawn", status)
		}
		list.Providers[0].Services = append(list.Providers[0].Services, svc)
	}
	eu := tltest.NewEU(testenv.ScriptTB(ts), list)
	ts.Value(euKey{}).(*euHolder).eu = eu
	var pins []byte
	for _, c := range eu.Pins() {
		pins = append(pins, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	ts.Check(os.WriteFile(ts.MkAbs("lotl-pins.pem"), pins, 0o644))
	ts.Setenv("LOTL_URL", eu.LOTLURL())
}

func readCert(ts *testscript.TestScript, file string) *x509.Certificate {
	block, _ := pem.Decode([]byte(ts.ReadFile(file)))
	if block == nil {
		ts.Fatalf("%s holds no PEM certificate", file)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	ts.Check(err)
	return c
}
