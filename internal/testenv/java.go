package testenv

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// The Java programs: independent producers (iText 5, Apache PDFBox 2 with
// Bouncy Castle) and iText 5's verifier, compiled at test time.
//
//go:embed java/*.java
var javaSources embed.FS

// JavaJars are the Debian jars the Java programs run on, and the packages
// that install them.
var JavaJars = map[string]string{
	"/usr/share/java/itext5.jar":          "libitext5-java",
	"/usr/share/java/pdfbox2.jar":         "libpdfbox2-java",
	"/usr/share/java/fontbox2.jar":        "libfontbox2-java",
	"/usr/share/java/commons-logging.jar": "libcommons-logging-java",
	"/usr/share/java/bcprov.jar":          "libbcprov-java",
	"/usr/share/java/bcpkix.jar":          "libbcpkix-java",
	"/usr/share/java/bcutil.jar":          "libbcutil-java",
}

// JavaTools runs the programs of internal/testenv/java.
type JavaTools struct {
	classpath string
}

var javaBuild struct {
	once      sync.Once
	classpath string
	err       error
}

// Java returns the Java tools, compiling them on first use in the process
// (into a cache folder keyed by the sources, so later processes reuse
// them). It skips the test, or fails it in CI, when a JDK or a jar is
// missing, and in short mode (a virtual machine per run is slow).
func Java(t testing.TB) *JavaTools {
	t.Helper()
	Slow(t, "iText and PDFBox in a Java virtual machine")
	Require(t, "java", "javac")
	var jars []string
	for jar, pkg := range JavaJars {
		if _, err := os.Stat(jar); err != nil {
			Missing(t, jar+" is missing (make deps installs "+pkg+")")
		}
		jars = append(jars, jar)
	}
	javaBuild.once.Do(func() { javaBuild.classpath, javaBuild.err = compileJava(jars) })
	if javaBuild.err != nil {
		t.Fatal(javaBuild.err)
	}
	return &JavaTools{classpath: javaBuild.classpath}
}

func compileJava(jars []string) (string, error) {
	h := sha256.New()
	var srcs []string
	err := fs.WalkDir(javaSources, "java", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := javaSources.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(data))
		h.Write(data)
		srcs = append(srcs, p)
		return err
	})
	if err != nil {
		return "", err
	}
	slices.Sort(jars)
	for _, j := range jars {
		fi, _ := os.Stat(j)
		fmt.Fprintf(h, "%s %d %d\n", j, fi.Size(), fi.ModTime().UnixNano())
	}
	cp := strings.Join(jars, string(os.PathListSeparator))
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	root := filepath.Join(base, "paraphe", "testenv-java")
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "classes")); err == nil {
		return dir + string(os.PathSeparator) + "classes" + string(os.PathListSeparator) + cp, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	args := []string{"-nowarn", "-encoding", "UTF-8", "-d", filepath.Join(tmp, "classes"), "-cp", cp}
	for _, s := range srcs {
		data, _ := javaSources.ReadFile(s)
		dst := filepath.Join(tmp, "src", filepath.Base(s))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", err
		}
		args = append(args, dst)
	}
	if out, err := exec.Command("javac", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("javac: %v\n%s", err, out)
	}
	// Another test process may have won the race: its classes are the same.
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "classes")); statErr != nil {
			return "", err
		}
	}
	return dir + string(os.PathSeparator) + "classes" + string(os.PathListSeparator) + cp, nil
}

// JavaJob is one operation of the Java programs. Op is "sign",
// "timestamp" (a document time-stamp), "ltv" (iText's LtvVerification:
// /DSS and /VRI for every signature) or "keygen" (Bouncy Castle: a key on
// Curve and a certificate for it issued by CAKey/CACert, for curves Go
// lacks).
type JavaJob struct {
	Op       string
	Producer string // "itext", "pdfbox"; "bc" for keygen
	In, Out  string // PDF files
	// PKCS12 and Password: the signer's key and chain (see WritePKCS12);
	// or Key and Certs, PEM files (PKCS#8; the chain, signer first).
	PKCS12, Password string
	Key, Certs       string
	SubFilter        string // adbe.pkcs7.detached, ETSI.CAdES.detached, adbe.pkcs7.sha1, adbe.x509.rsa_sha1
	Digest           string // "SHA-256" (default), "SHA-384", "SHA-512"
	PSS              bool   // RSASSA-PSS instead of PKCS#1 v1.5
	TSA              string // an RFC 3161 URL: a signature time-stamp, or the document time-stamp's
	TLSRoot          string // a PEM file trusted for HTTPS (the TSA's server)
	Visible          bool
	Field            string // the signature field's name
	// keygen: the issuing CA as PKCS#8 and certificate PEM files, the
	// certificates above it (PEM, optional), and where to write the new key
	// (PKCS#8 PEM) and its chain (PEM, the new certificate first).
	Curve, CAKey, CACert, Chain, KeyOut, CertOut, CN string
}

func (j JavaJob) line(id int) (string, error) {
	kv := []string{"id", fmt.Sprint(id), "op", j.Op, "producer", j.Producer, "in", j.In, "out", j.Out,
		"p12", j.PKCS12, "password", j.Password, "key", j.Key, "certs", j.Certs, "subfilter", j.SubFilter, "digest", j.Digest,
		"tsa", j.TSA, "tlsroot", j.TLSRoot, "field", j.Field, "curve", j.Curve, "cakey", j.CAKey,
		"cacert", j.CACert, "chain", j.Chain, "keyout", j.KeyOut, "certout", j.CertOut, "cn", j.CN}
	if j.PSS {
		kv = append(kv, "scheme", "pss")
	}
	if j.Visible {
		kv = append(kv, "visible", "true")
	}
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if strings.ContainsAny(kv[i+1], "\t\n\r") {
			return "", fmt.Errorf("java job: %s holds a tab or a newline: %q", kv[i], kv[i+1])
		}
		if b.Len() > 0 {
			b.WriteByte('\t')
		}
		b.WriteString(kv[i] + "=" + kv[i+1])
	}
	return b.String(), nil
}

// JavaResult is the answer to one job.
type JavaResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	// Fields are the signatures an ltv job added validation data for.
	Fields string `json:"fields"`
	// Subject is the certificate a keygen job issued.
	Subject string `json:"subject"`
}

// Err is nil for a job done, else the Java side's error.
func (r JavaResult) Err() error {
	if r.OK {
		return nil
	}
	return errors.New(r.Error)
}

// Run runs the jobs in one JVM, in order, and returns one result per job.
func (j *JavaTools) Run(t testing.TB, jobs ...JavaJob) []JavaResult {
	t.Helper()
	var in bytes.Buffer
	for i, job := range jobs {
		l, err := job.line(i)
		if err != nil {
			t.Fatal(err)
		}
		in.WriteString(l + "\n")
	}
	out := j.java(t, &in, "jobs")
	res := make([]JavaResult, len(jobs))
	lines := nonEmptyLines(out)
	if len(lines) != len(jobs) {
		t.Fatalf("java: %d answers to %d jobs:\n%s", len(lines), len(jobs), out)
	}
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &res[i]); err != nil {
			t.Fatalf("java: %v in %q", err, l)
		}
	}
	return res
}

// ITextVerdict is iText 5's verdict on one signature field.
type ITextVerdict struct {
	File      string `json:"file"`
	Field     string `json:"field"`
	Type      string `json:"type"`      // the dictionary's /Type: Sig, DocTimeStamp or ""
	SubFilter string `json:"subfilter"` // without the slash
	// Integrity is "true", "false", "error" (iText threw: no verdict) or
	// "unsigned" (an empty field).
	Integrity           string `json:"integrity"`
	Error               string `json:"error"`
	CoversWholeDocument bool   `json:"covers_whole_document"`
	Revision            int    `json:"revision"`
	TotalRevisions      int    `json:"total_revisions"`
	SignatureTimestamp  bool   `json:"signature_timestamp"`
	TimestampImprint    string `json:"timestamp_imprint"` // "true", "false", "error", "" without a time-stamp
	Digest              string `json:"digest"`
	Encryption          string `json:"encryption"`
	Signer              string `json:"signer"`
}

// VerifyIText has iText 5 verify every signature field of the files (one
// JVM for all of them).
func (j *JavaTools) VerifyIText(t testing.TB, files ...string) []ITextVerdict {
	t.Helper()
	out := j.java(t, nil, append([]string{"verify"}, files...)...)
	var vs []ITextVerdict
	for _, l := range nonEmptyLines(out) {
		var v ITextVerdict
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("iText verifier: %v in %q", err, l)
		}
		vs = append(vs, v)
	}
	return vs
}

func (j *JavaTools) java(t testing.TB, stdin *bytes.Buffer, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// One core's worth of JIT and GC threads: the machine is shared.
	cmd := exec.CommandContext(ctx, "java", append([]string{"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Djava.awt.headless=true", "-cp", j.classpath, "paraphe.testenv.Main"}, args...)...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("java %s: %v\n%s%s", args[0], err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// WritePKCS12 writes key and chain (signer first) to a PKCS#12 file in a
// temporary folder and returns its path and password. It uses the modern
// encoding (PBES2 with AES-256, PBKDF2 with SHA-256), which Java 17 and
// Bouncy Castle read.
func WritePKCS12(t testing.TB, key crypto.PrivateKey, chain []*x509.Certificate) (path, password string) {
	t.Helper()
	pw := make([]byte, 12)
	rand.Read(pw)
	password = hex.EncodeToString(pw)
	data, err := pkcs12.Modern.Encode(key, chain[0], chain[1:], password)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "signer.p12")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, password
}

// WriteKeyPEM writes key as a PKCS#8 PEM file in a temporary folder.
func WriteKeyPEM(t testing.TB, key crypto.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteCertsPEM writes the certificates to a PEM file in a temporary folder.
func WriteCertsPEM(t testing.TB, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	f, err := os.CreateTemp(t.TempDir(), "certs-*.pem")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}
