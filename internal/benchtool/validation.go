//go:build linux

package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/paraphe/paraphe/internal/testenv"
)

// ocspRequests are OCSP requests about certs (SHA-1 CertIDs, no nonce:
// what most validators send), one each.
func ocspRequests(certs []*x509.Certificate, issuer *x509.Certificate) ([][]byte, error) {
	var out [][]byte
	for _, c := range certs {
		q, err := ocsp.CreateRequest(c, issuer, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// checkOCSP asks url about cert once and checks the answer: good, signed
// by a responder the issuer certified.
func checkOCSP(url string, req []byte, cert, issuer *x509.Certificate) error {
	resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if r.Status != ocsp.Good {
		return fmt.Errorf("%s: status %d, want good", url, r.Status)
	}
	return nil
}

// tsaRequests are n time-stamp requests for SHA-256 imprints of random
// data, without certificates asked for (a signer that has the TSA's
// certificate already).
func tsaRequests(n int) ([][]byte, error) {
	var out [][]byte
	for range n {
		data := make([]byte, 32)
		rand.Read(data)
		q, err := timestamp.CreateRequest(bytes.NewReader(data), &timestamp.RequestOptions{Hash: crypto.SHA256})
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// checkTSA asks for one time-stamp over HTTPS and checks the token.
func checkTSA(url string, tc *tls.Config, req []byte) error {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := hc.Post(url, "application/timestamp-query", bytes.NewReader(req))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if _, err := timestamp.ParseResponse(body); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

// opensslOCSP is openssl ocsp serving the status of certs as an index
// file says it, signing with the CA folder's responder key and
// certificate, as paraphe-ca does.
type opensslOCSP struct {
	cmd  *exec.Cmd
	addr string
}

// startOpenSSLOCSP starts openssl ocsp on a free port with processes
// responders (-multi when more than one).
func startOpenSSLOCSP(caDir, work string, certs []*x509.Certificate, processes int) (*opensslOCSP, error) {
	var index strings.Builder
	for _, c := range certs {
		// V, expiry, no revocation, serial as openssl writes it (upper
		// case, whole bytes), file name, subject.
		fmt.Fprintf(&index, "V\t%s\t\t%s\tunknown\t/CN=%s\n", c.NotAfter.UTC().Format("060102150405Z"),
			strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes())), c.Subject.CommonName)
	}
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, err
	}
	indexFile := filepath.Join(work, "index.txt")
	if err := os.WriteFile(indexFile, []byte(index.String()), 0o644); err != nil {
		return nil, err
	}
	// The certificates share a subject (one holder, enrolled again).
	if err := os.WriteFile(indexFile+".attr", []byte("unique_subject = no\n"), 0o644); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close() // openssl binds it itself
	args := []string{"ocsp", "-index", indexFile, "-port", port, "-CA", filepath.Join(caDir, "issuing.pem"),
		"-rsigner", filepath.Join(caDir, "ocsp.pem"), "-rkey", filepath.Join(caDir, "ocsp.key"), "-nmin", "60"}
	if processes > 1 {
		args = append(args, "-multi", strconv.Itoa(processes))
	}
	o := &opensslOCSP{cmd: exec.Command("openssl", args...), addr: "127.0.0.1:" + port}
	stderr := &testenv.Buffer{} // and its standard output: "ACCEPT …"
	o.cmd.Stdout, o.cmd.Stderr = stderr, stderr
	o.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its -multi children with it
	if err := o.cmd.Start(); err != nil {
		return nil, err
	}
	// Its words, not a probe: a connection closed before its request
	// leaves openssl ocsp (3.0) waiting on it, serving nobody.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if strings.Contains(stderr.String(), "ACCEPT ") {
			return o, nil
		}
		if time.Now().After(deadline) {
			o.stop()
			return nil, fmt.Errorf("openssl ocsp does not listen on %s: %s", o.addr, stderr)
		}
	}
}

// stop kills openssl ocsp and its children (-multi's parent waits for
// them rather than end on a signal).
func (o *opensslOCSP) stop() {
	syscall.Kill(-o.cmd.Process.Pid, syscall.SIGKILL)
	o.cmd.Wait()
}

// readCert reads a PEM certificate file.
func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%s: no certificate", path)
	}
	return x509.ParseCertificate(b.Bytes)
}
