package testenv

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NSSDB is an NSS database (sql: format) protected by a password, as
// poppler's pdfsig reads it to sign and to verify: signers' keys imported
// from PKCS#12 files with pk12util, roots trusted with certutil.
type NSSDB struct {
	Dir      string
	Password string
	pwFile   string
}

// NewNSSDB creates an empty NSS database in a temporary folder.
func NewNSSDB(t testing.TB) *NSSDB {
	t.Helper()
	Require(t, "certutil", "pk12util")
	dir := t.TempDir()
	db := &NSSDB{Dir: dir, Password: "nss-db-password", pwFile: filepath.Join(dir, "password.txt")}
	if err := os.WriteFile(db.pwFile, []byte(db.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run("certutil", "-N", "-d", db.arg(), "-f", db.pwFile); err != nil {
		t.Fatal(err)
	}
	return db
}

func (db *NSSDB) arg() string { return "sql:" + db.Dir }

// Trust adds root as a CA trusted for S/MIME signatures, the trust pdfsig
// checks ("C,C,C"; "C,," is not enough).
func (db *NSSDB) Trust(t testing.TB, root *x509.Certificate) {
	t.Helper()
	sum := sha256.Sum256(root.Raw)
	if err := db.addCert(fmt.Sprintf("root %x", sum[:6]), "C,C,C", root.Raw); err != nil {
		t.Fatal(err)
	}
}

func (db *NSSDB) addCert(nick, trust string, der []byte) error {
	f := filepath.Join(db.Dir, "cert.pem")
	if err := os.WriteFile(f, pemCerts(der), 0o600); err != nil {
		return err
	}
	_, err := run("certutil", "-A", "-d", db.arg(), "-f", db.pwFile, "-n", nick, "-t", trust, "-i", f)
	return err
}

// AddSigner trusts the PKI's root and imports its signer's key and chain
// from signer.p12 with pk12util, and returns the signer's nickname. NSS
// 3.87 (Debian 12) cannot import an Ed25519 key: the error says so.
func (db *NSSDB) AddSigner(t testing.TB, p *SignerPKI) (string, error) {
	t.Helper()
	db.Trust(t, p.Root)
	// Named before the import, so that pk12util keeps this nickname rather
	// than making one up from the subject.
	nick := fmt.Sprintf("signer %x", p.Leaf.SerialNumber)
	if err := db.addCert(nick, ",,", p.Leaf.Raw); err != nil {
		return "", err
	}
	pw := filepath.Join(p.Dir, "p12-password.txt")
	if err := os.WriteFile(pw, []byte(P12Password+"\n"), 0o600); err != nil {
		return "", err
	}
	if _, err := run("pk12util", "-i", p.File("signer.p12"), "-d", db.arg(), "-k", db.pwFile, "-w", pw); err != nil {
		return "", err
	}
	return nick, nil
}

// PdfsigSignOptions are pdfsig -add-signature's options.
type PdfsigSignOptions struct {
	Nick   string
	Digest string // -digest; pdfsig 22.12 signs with SHA256 only
	Reason string
}

// ErrPdfsigPlaceholder is pdfsig -add-signature failing with "unable update
// signature" on every try: see PdfsigSign.
var ErrPdfsigPlaceholder = errors.New("testenv: pdfsig kept failing to write its signature into the placeholder")

// PdfsigSign signs in with pdfsig -add-signature into out (adbe.pkcs7.detached,
// an incremental update with a visible field whose appearance embeds a
// font).
//
// pdfsig 22.12 sizes /Contents after a first signature and writes the real
// one only when it has the same length: ECDSA signatures vary by a byte or
// two, so with an EC key it fails ("signDocument: unable update signature",
// exit 3) about half the time and leaves a file whose signature does not
// match. PdfsigSign tries again then, up to 40 times; RSA signatures
// always fit.
func (db *NSSDB) PdfsigSign(t testing.TB, in, out string, o PdfsigSignOptions) error {
	t.Helper()
	Require(t, "pdfsig")
	digest := o.Digest
	if digest == "" {
		digest = "SHA256"
	}
	args := []string{"-nssdir", db.arg(), "-nss-pwd", db.Password, "-add-signature", "-nick", o.Nick, "-digest", digest}
	if o.Reason != "" {
		args = append(args, "-reason", o.Reason)
	}
	args = append(args, in, out)
	for range 40 {
		os.Remove(out)
		cmd := exec.Command("pdfsig", args...)
		msg, err := cmd.CombinedOutput()
		if err == nil {
			return nil
		}
		if !strings.Contains(string(msg), "unable update signature") {
			return fmt.Errorf("pdfsig -add-signature: %w\n%s", err, msg)
		}
	}
	os.Remove(out)
	return ErrPdfsigPlaceholder
}

// Pdfsig runs pdfsig over file with this database and returns its report:
// pdfsig exits 0 even when a digest does not match, its words count.
func (db *NSSDB) Pdfsig(t testing.TB, file string) string {
	t.Helper()
	Require(t, "pdfsig")
	out, _ := exec.Command("pdfsig", "-nssdir", db.arg(), "-nss-pwd", db.Password, file).CombinedOutput()
	return string(out)
}
