//go:build linux

// Command benchtool is make bench's helper (scripts/bench.sh): it writes a
// large PDF, signs one with a software key (the signing path of paraphe
// sign, without a key store) or verifies files as paraphe verify reads
// them, so that wall time and peak RSS can be measured from outside, next
// to other tools doing the same to the same files.
//
//	benchtool write FILE BYTES
//	benchtool sign IN OUT
//	benchtool verify FILE...
//	benchtool ca [-activations N] [-time D] PARAPHE-CA
//
// ca runs make bench's paraphe-ca rows (cabench.go) with that binary:
// N activations a row (200), D an OCSP or time-stamp figure (3s).
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"time"

	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pdf"
)

const usage = "usage: benchtool write FILE BYTES | sign IN OUT | verify FILE... | ca [-activations N] [-time D] PARAPHE-CA"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch op, args := args[0], args[1:]; {
	case op == "write" && len(args) == 2:
		size, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil || size <= 0 {
			return fmt.Errorf("%q is not a size in bytes", args[1])
		}
		return testenv.WriteBigPDF(args[0], size)
	case op == "sign" && len(args) == 2:
		key, chain, err := softwareKey()
		if err != nil {
			return err
		}
		s := &pdf.Signer{Key: key, Chain: chain}
		_, err = s.SignFile(context.Background(), args[0], args[1])
		return err
	case op == "ca":
		fs := flag.NewFlagSet("ca", flag.ContinueOnError)
		fs.IntVar(&benchActivations, "activations", benchActivations, "activations a row")
		fs.DurationVar(&benchTime, "time", benchTime, "time an OCSP or time-stamp figure takes")
		if err := fs.Parse(args); err != nil || fs.NArg() != 1 || benchActivations < 1 {
			return errors.New(usage)
		}
		return runCA(fs.Arg(0))
	case op == "verify" && len(args) > 0:
		// Offline, trusting nothing (the verdict does not change the work
		// done). Files it refuses (unsigned, locked by a password) count
		// as done, as they do for pdfsig.
		for _, name := range args {
			if _, err := pdf.Verify(context.Background(), name, pdf.VerifyOptions{}); err != nil && !errors.Is(err, pdf.ErrNoSignature) {
				fmt.Fprintln(os.Stderr, name+":", err)
			}
		}
		return nil
	}
	return errors.New(usage)
}

// softwareKey is a P-256 key and its chain (leaf, issuing CA, root), made
// for the run: the shape of a holder's, so that the signatures have the
// size of real ones.
func softwareKey() (crypto.Signer, []*x509.Certificate, error) {
	var (
		chain     []*x509.Certificate // leaf first
		key       *ecdsa.PrivateKey
		issuer    *x509.Certificate
		issuerKey crypto.Signer
	)
	for i, name := range []string{"Bench Root", "Bench Issuing CA", "Bench Holder"} {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, nil, err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
		if i < 2 {
			tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
		if issuer == nil { // the root signs itself
			issuer, issuerKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
		if err != nil {
			return nil, nil, err
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, err
		}
		chain = append([]*x509.Certificate{cert}, chain...)
		issuer, issuerKey = cert, key
	}
	return key, chain, nil
}
