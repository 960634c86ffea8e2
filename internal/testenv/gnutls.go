package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// GnuTLSVerifyCMS has GnuTLS's certtool --p7-verify check a detached
// SignedData over content, trusting the PKI's root: the independent check
// for what neither NSS 3.87 nor OpenSSL 3.0 verifies in CMS (Ed25519).
func GnuTLSVerifyCMS(t testing.TB, p *SignerPKI, cms, content []byte) error {
	t.Helper()
	Require(t, "certtool")
	sig, c, err := writeCMS(t, cms, content)
	if err != nil {
		return err
	}
	out, err := run("certtool", "--p7-verify", "--inder", "--infile", sig, "--load-data", c,
		"--load-ca-certificate", p.File("root.pem"))
	if err != nil {
		return err
	}
	if !strings.Contains(string(out), "Signature status: ok") {
		return fmt.Errorf("certtool --p7-verify:\n%s", out)
	}
	return nil
}
