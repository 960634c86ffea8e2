package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/pquerna/otp/totp"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/pkcs/remote"
)

// remoteHolder signs a remote holder in to a real paraphe-ca process
// whose keys are on a SoftHSM token of its own (the app's process loads no
// PKCS#11 module for it), enrolled with paraphe-ca remote enroll, their
// secrets read from the envelope with qpdf and pdftotext, and activated
// (PIN 20261201) as paraphe remote login and activate would: the app then
// has the certificate in store remote.
func remoteHolder(t *testing.T) (*UI, *testenv.CAProcess, pkcs.Entry, string) {
	t.Helper()
	u, c, secrets := remoteEnrolled(t)
	pol, err := config.ReadPolicy(c.Policy)
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.Remote(pol)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := remote.Service{CSC: c.URL + "/csc/v2/", Remote: c.URL + "/remote/v1/"}
	if _, err := store.Login(ctx, svc, secrets["user"], []byte(secrets["password"]), []byte("Giulia#2026")); err != nil {
		t.Fatal(err)
	}
	setup, err := store.Activate(ctx, []byte(secrets["puk"]), []byte("20261201"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.ConfirmOTP(ctx, []byte(otpAt(t, setup.Secret, -30*time.Second))); err != nil {
		t.Fatal(err)
	}
	entries, err := store.List()
	if err != nil || len(entries) != 1 {
		t.Fatalf("the remote store lists %v: %v", entries, err)
	}
	u.certsChanged()
	return u, c, entries[0], setup.Secret
}

// remoteEnrolled is a real paraphe-ca process whose keys are on a
// SoftHSM token of its own (the app's process loads no PKCS#11 module for
// it), a holder enrolled with paraphe-ca remote enroll and the secrets of
// their envelope, and the app with the CA's policy.
func remoteEnrolled(t *testing.T) (*UI, *testenv.CAProcess, map[string]string) {
	t.Helper()
	testenv.Require(t, "qpdf", "pdftotext")
	if caErr != "" {
		t.Fatal(caErr)
	}
	dir, bin := t.TempDir(), caBin
	tok := testenv.NewTokenIn(t, filepath.Join(dir, "softhsm"), "ca-hsm")
	env := append(append([]string{}, tok.Env...), "PARAPHE_CA_PIN="+tok.PIN)
	c := testenv.StartCAProcessWith(t, bin, testenv.CAProcessOptions{Env: env,
		InitArgs: []string{"--key-store", "pkcs11", "--pkcs11-module", tok.Module, "--token", tok.Label}})
	secrets := enrolRemote(t, bin, c.Dir, env)
	return newUI(t, c.Policy), c, secrets
}

// enrolRemote enrols a remote holder with paraphe-ca remote enroll and
// reads their user ID, initial password and PUK in the envelope.
func enrolRemote(t *testing.T, bin, caDir string, env []string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	pass, envelope, clear := filepath.Join(dir, "pass"), filepath.Join(dir, "envelope.pdf"), filepath.Join(dir, "clear.pdf")
	os.WriteFile(pass, []byte("Luna.di.Marzo.1987\n"), 0o600)
	cmd := exec.Command(bin, "remote", "enroll", "--dir", caDir, "--passphrase-file", pass, "--envelope", envelope)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(`{"name": "Giulia Neri", "title": "Notaio", "member_number": "RM-0907", "organization": "Consiglio Notarile di Roma"}`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("paraphe-ca remote enroll: %v\n%s", err, out)
	}
	if out, err := exec.Command("qpdf", "--decrypt", "--password=Luna.di.Marzo.1987", envelope, clear).CombinedOutput(); err != nil {
		t.Fatalf("qpdf: %v\n%s", err, out)
	}
	text, err := exec.Command("pdftotext", "-layout", clear, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, re := range map[string]string{"user": `(?m)^User ID\n +(\S+)$`, "password": `(?m)^Initial password.*\n +(\S+)$`,
		"puk": `(?m)^PUK .*\n +([0-9]{8})$`} {
		m := regexp.MustCompile(re).FindStringSubmatch(string(text))
		if m == nil {
			t.Fatalf("no %s in the envelope:\n%s", name, text)
		}
		out[name] = m[1]
	}
	return out
}

// otpAt is the one-time password of secret d from now.
func otpAt(t *testing.T, secret string, d time.Duration) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now().Add(d))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// A remote certificate signs a batch from the Sign screen: the PIN's box
// asks its one-time password too, once for the batch, whose hashes the CA
// authorises together; a wrong one-time password signs nothing and says
// the tries left.
func TestSignRemoteAsksPINAndOTP(t *testing.T) {
	testenv.Slow(t, "a remote-signing paraphe-ca process")
	u, c, entry, secret := remoteHolder(t)
	deed, err := os.ReadFile(filepath.Join("..", "assets", "demo", "deed.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		files = append(files, filepath.Join(dir, name))
		os.WriteFile(files[len(files)-1], deed, 0o644)
	}
	s := u.signer
	s.selectCert(entry.ID)
	s.add(files...)
	s.level.SetSelectedIndex(0) // B-B
	sign := func(otp string) {
		t.Helper()
		s.otpEntry = nil
		test.Tap(s.signBtn)
		u.tasks.Wait()
		if s.otpEntry == nil {
			t.Fatalf("the PIN's box asks no one-time password (shown: %q)", u.shown)
		}
		test.Type(u.pinEntry, "20261201")
		test.Type(s.otpEntry, otp)
		u.pinDialog.Submit()
		u.tasks.Wait()
	}

	sign("000000")
	for _, f := range s.files {
		if f.ok || !strings.Contains(f.status.Text, "wrong or already used one-time password (4 tries left)") {
			t.Fatalf("%s with a wrong one-time password: %q", f.in, f.status.Text)
		}
	}
	sign(otpAt(t, secret, 0))
	for _, f := range s.files {
		if !f.ok {
			t.Fatalf("%s: %q", f.in, f.status.Text)
		}
	}
	log := c.Log.String()
	if n := strings.Count(log, `"msg":"remote authorized"`); n != 1 || !strings.Contains(log, `"hashes":3`) {
		t.Fatalf("%d authorisations in the CA's log:\n%s", n, log)
	}
	if s.otpEntry.Text != "" {
		t.Error("the one-time password stays in its field")
	}
}

// A remote certificate renewed from its card: the PIN, then the details
// its successor will carry, which the holder confirms with a one-time
// password; the CA makes the successor's key in its HSM and the app lists
// it instead. Details not confirmed renew nothing and spend no one-time
// password.
func TestRenewRemoteFromHome(t *testing.T) {
	testenv.Slow(t, "a remote-signing paraphe-ca process")
	u, c, entry, secret := remoteHolder(t)
	var cert local.Cert
	for _, x := range u.certs {
		if x.ID == entry.ID {
			cert = x
		}
	}
	ask := func() *confirmBox {
		t.Helper()
		u.home.renew(cert)
		test.Type(u.pinEntry, "20261201")
		u.pinDialog.Submit()
		u.tasks.Wait()
		q := u.home.confirmDetails
		if q == nil || u.home.renewOTP == nil {
			t.Fatalf("no question about the details with a one-time password (shown %q)", u.shown)
		}
		got := texts(u.win.Canvas().Overlays().Top())
		for _, want := range []string{"Giulia Neri", "Notaio", "RM-0907", "Consiglio Notarile di Roma", "One-time password"} {
			if !strings.Contains(got, want) {
				t.Fatalf("the question about the details lacks %q:\n%s", want, got)
			}
		}
		return q
	}
	ask().Dismiss()
	u.tasks.Wait()
	if !strings.Contains(u.shown, "you did not confirm the details") || remoteCerts(u) != 1 || u.certs[0].ID != entry.ID {
		t.Fatalf("details not confirmed: shown %q, certificates %v", u.shown, u.certs)
	}
	q := ask()
	test.Type(u.home.renewOTP, otpAt(t, secret, 0))
	q.Confirm()
	u.tasks.Wait()
	if !strings.Contains(u.shown, "Your new certificate is valid until") {
		t.Fatalf("the renewal: %q", u.shown)
	}
	if remoteCerts(u) != 1 || u.certs[0].ID == entry.ID || u.settings.DefaultCert != u.certs[0].ID {
		t.Fatalf("after the renewal the app lists %v (default %s)", u.certs, u.settings.DefaultCert)
	}
	if n := strings.Count(c.Log.String(), `"remote":true`); n != 1 {
		t.Errorf("%d renewals in the CA's log:\n%s", n, c.Log.String())
	}
}
