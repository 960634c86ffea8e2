package ca_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/paraphe/paraphe/ca"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
	"github.com/paraphe/paraphe/protocol"
)

// remoteClock is remote signing's time in these tests: each one-time
// password is drawn at a step of its own, as a holder a few seconds apart.
type remoteClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *remoteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// next moves to the next TOTP step.
func (c *remoteClock) next() {
	c.mu.Lock()
	c.now = c.now.Add(30 * time.Second)
	c.mu.Unlock()
}

// remoteCA is a CA whose keys are on the process token, handed over, on
// this pass's database, with remote signing's clock.
func remoteCA(t *testing.T, policy ca.RemotePolicy) (*ca.Authority, *remoteClock) {
	return remoteCAFor(t, policy, "")
}

// remoteCAFor is remoteCA whose holders' keys are of holderKeyType.
func remoteCAFor(t *testing.T, policy ca.RemotePolicy, holderKeyType string) (*ca.Authority, *remoteClock) {
	t.Helper()
	tok := testenv.ProcessToken(t)
	keys := openKeys(t, tok, tok.PIN)
	o := ca.InitOptions{KeyStore: ca.KeyStorePKCS11, PKCS11: &ca.PKCS11{Module: tok.Module, Token: tok.Label}, Token: keys,
		Database: ca.DatabaseForTest(t), HolderKeyType: holderKeyType}
	dir := filepath.Join(t.TempDir(), "ca")
	err := ca.Init(dir, o)
	keys.Close()
	if err != nil {
		t.Fatal(err)
	}
	if policy != (ca.RemotePolicy{}) {
		setRemotePolicy(t, dir, policy)
	}
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.UseToken(openKeys(t, tok, tok.PIN)); err != nil {
		t.Fatal(err)
	}
	clock := &remoteClock{now: time.Now()}
	ca.SetRemoteClock(a, clock.Now)
	return a, clock
}

// setRemotePolicy writes p into the config.json of the CA in dir.
func setRemotePolicy(t *testing.T, dir string, p ca.RemotePolicy) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["remote"] = p
	data, _ = json.Marshal(cfg)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func remoteHolder() ca.Holder {
	return ca.Holder{Name: "Giulia Neri", Title: "Notaio", MemberNumber: "RM-0907", Organization: "Consiglio Notarile di Roma", Email: "giulia@example.org"}
}

// activeHolder enrols a remote holder and takes them through the
// password change and the activation: their user ID, new password and
// PIN, and TOTP secret.
type activeHolder struct {
	*ca.RemoteEnrolment
	password, pin, secret string
	token                 string
}

func enrolActive(t *testing.T, a *ca.Authority, clock *remoteClock) *activeHolder {
	t.Helper()
	return enrolActiveAs(t, a, clock, remoteHolder())
}

// enrolActiveAs is enrolActive for the holder record rec.
func enrolActiveAs(t *testing.T, a *ca.Authority, clock *remoteClock, rec ca.Holder) *activeHolder {
	t.Helper()
	ctx := context.Background()
	e, err := a.EnrollRemote(ctx, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &activeHolder{RemoteEnrolment: e, password: "Nuova#Passw0rd", pin: "40726153"}
	if err := a.ChangeRemotePassword(ctx, e.UserID, e.Password, h.password); err != nil {
		t.Fatal(err)
	}
	tok, err := a.RemoteLogin(ctx, e.UserID, h.password, false)
	if err != nil {
		t.Fatal(err)
	}
	h.token = tok.AccessToken
	setup, err := a.ActivateRemote(ctx, e.UserID, e.PUK, h.pin)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(setup.URI)
	if err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != setup.Secret {
		t.Fatalf("otp URI %q: %v", setup.URI, err)
	}
	h.secret = setup.Secret
	if err := a.ConfirmRemoteOTP(ctx, e.UserID, h.otp(t, clock)); err != nil {
		t.Fatal(err)
	}
	return h
}

// otp is the holder's one-time password at the next step.
func (h *activeHolder) otp(t *testing.T, clock *remoteClock) string {
	t.Helper()
	clock.next()
	code, err := totp.GenerateCode(h.secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func sha(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// authorize asks for a SAD for hashes.
func (h *activeHolder) authorize(a *ca.Authority, pin, code string, hashes ...[]byte) (*protocol.CSCSAD, error) {
	req := protocol.CSCAuthorize{CredentialID: h.Serial, NumSignatures: len(hashes), HashAlgorithmOID: protocol.OIDSHA256,
		AuthData: []protocol.CSCAuthData{{ID: "PIN", Value: pin}, {ID: "OTP", Value: code}}}
	for _, x := range hashes {
		req.Hashes = append(req.Hashes, b64(x))
	}
	return a.AuthorizeRemote(context.Background(), h.UserID, req)
}

func (h *activeHolder) sign(a *ca.Authority, sad string, hashes ...[]byte) ([][]byte, error) {
	req := protocol.CSCSignHash{CredentialID: h.Serial, SAD: sad, SignAlgo: protocol.OIDECDSAWithSHA256, HashAlgorithmOID: protocol.OIDSHA256}
	for _, x := range hashes {
		req.Hashes = append(req.Hashes, b64(x))
	}
	return a.SignRemote(context.Background(), h.UserID, req)
}

// refusal is err as remote signing's refusal.
func refusal(err error) *ca.RemoteError {
	var e *ca.RemoteError
	if errors.As(err, &e) {
		return e
	}
	return &ca.RemoteError{Code: fmt.Sprint(err)}
}

func codeOf(err error) string      { return refusal(err).Code }
func description(err error) string { return refusal(err).Description }

// left is the tries left that err says, or -1.
func left(err error) int {
	if l := refusal(err).AttemptsLeft; l != nil {
		return *l
	}
	return -1
}

// The journey of a remote holder on the CA side: the initial password
// opens nothing but its change, whose rules each have their word; the PUK
// activates; a PIN and a one-time password authorise a list of hashes,
// signed once by the key on the token; and the audit trail, intact, holds
// every step and no secret.
func TestRemoteJourney(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{})
	ctx := context.Background()
	e, err := a.EnrollRemote(ctx, remoteHolder(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ca.ParseUserID(strings.ToLower(strings.ReplaceAll(e.UserID, "-", " "))) != e.UserID {
		t.Errorf("user ID %s is not read back as typed", e.UserID)
	}
	if len(e.PIN) != 8 || len(e.PUK) != 8 || e.Serial == "" || e.Certificate.CheckSignatureFrom(a.Issuer) != nil {
		t.Fatalf("enrolment %+v", e)
	}
	if _, err := a.RemoteLogin(ctx, e.UserID, e.Password, false); codeOf(err) != protocol.RemotePasswordChange {
		t.Fatalf("the initial password signs in: %v", err)
	}
	if _, err := a.RemoteLogin(ctx, e.UserID, "Wrong#Pass1", false); codeOf(err) != protocol.CSCAccessDenied {
		t.Fatalf("a wrong password: %v", err)
	}
	if _, err := a.RemoteLogin(ctx, "RS-0000-0000", "Wrong#Pass1", false); codeOf(err) != protocol.CSCAccessDenied {
		t.Fatalf("an unknown user: %v", err)
	}
	for pw, rule := range map[string]string{"Ab1#": "too_short", "abcdef1#x": "need_upper", "ABCDEF1#X": "need_lower",
		"Abcdefg#h": "need_digit", "Abcdefg1h": "need_special", "Abbb#1cde": "repeat", e.Password: "same_as_current"} {
		err := a.ChangeRemotePassword(ctx, e.UserID, e.Password, pw)
		if c, desc := codeOf(err), description(err); c != protocol.RemotePasswordRule || desc != rule {
			t.Errorf("password %q: %s %q, want %s %q", pw, c, desc, protocol.RemotePasswordRule, rule)
		}
	}
	h := &activeHolder{RemoteEnrolment: e, password: "Nuova#Passw0rd", pin: "40726153"}
	if err := a.ChangeRemotePassword(ctx, e.UserID, e.Password, h.password); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RemoteLogin(ctx, e.UserID, e.Password, false); codeOf(err) != protocol.CSCAccessDenied {
		t.Fatalf("the initial password after its change: %v", err)
	}
	if _, err := a.ActivateRemote(ctx, e.UserID, "00000000", h.pin); codeOf(err) != protocol.RemoteInvalidPUK || left(err) != 2 {
		t.Fatalf("a wrong PUK: %v (%d left)", err, left(err))
	}
	if _, err := a.ActivateRemote(ctx, e.UserID, e.PUK, "1234567"); codeOf(err) != protocol.RemotePINRule {
		t.Fatalf("a PIN of 7 digits: %v", err)
	}
	setup, err := a.ActivateRemote(ctx, e.UserID, e.PUK, h.pin)
	if err != nil {
		t.Fatal(err)
	}
	h.secret = setup.Secret
	if _, err := h.authorize(a, h.pin, "000000", sha("x")); codeOf(err) != protocol.RemoteNotActivated {
		t.Fatalf("authorising before the generator is confirmed: %v", err)
	}
	if err := a.ConfirmRemoteOTP(ctx, e.UserID, h.otp(t, clock)); err != nil {
		t.Fatal(err)
	}
	hashes := [][]byte{sha("one"), sha("two"), sha("three")}
	sad, err := h.authorize(a, h.pin, h.otp(t, clock), hashes...)
	if err != nil {
		t.Fatal(err)
	}
	if sad.ExpiresIn != 300 {
		t.Errorf("the SAD lives %d s", sad.ExpiresIn)
	}
	sigs, err := h.sign(a, sad.SAD, hashes...)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sigs {
		if !ecdsa.VerifyASN1(e.Certificate.PublicKey.(*ecdsa.PublicKey), hashes[i], s) {
			t.Errorf("signature %d does not verify", i)
		}
	}
	if _, err := h.sign(a, sad.SAD, hashes[0]); codeOf(err) != protocol.CSCInvalidRequest || !strings.Contains(description(err), "used already") {
		t.Fatalf("the SAD again: %v", err)
	}
	listsSensitiveKey(t, testenv.ProcessToken(t), e.Certificate)
	checkRemoteAudit(t, a, h)
}

// checkRemoteAudit checks the audit trail is intact, records the remote
// events, and holds none of the holder's secrets.
func checkRemoteAudit(t *testing.T, a *ca.Authority, h *activeHolder) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	events := map[string]int{}
	a.ExportAudit(ctx, time.Time{}, func(r *ca.AuditRecord) error {
		events[r.Event]++
		fmt.Fprintf(&all, "%s %s %s\n", r.Event, r.Subject, r.Details)
		return nil
	})
	for _, ev := range []string{ca.EventHolderEnrolled, ca.EventIssued, ca.EventRemoteLogin, ca.EventRemotePassword,
		ca.EventRemoteActivation, ca.EventRemoteOTPEnrolled, ca.EventRemoteAuthorized, ca.EventRemoteSigned} {
		if events[ev] == 0 {
			t.Errorf("no %s in the audit trail:\n%s", ev, all.String())
		}
	}
	for _, secret := range []string{h.Password, h.password, h.PIN, h.pin, h.PUK, h.EmergencyCode, h.secret} {
		if secret != "" && strings.Contains(all.String(), secret) {
			t.Errorf("the audit trail holds a secret %q:\n%s", secret, all.String())
		}
	}
}

// Wrong PINs sent at once, from two servers on one database, are all
// counted: no more than the policy's tries are ever checked, the PIN is
// then blocked, even to the right PIN, until the PUK unblocks it.
func TestRemotePINTriesInParallel(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{PINTries: 3})
	h := enrolActive(t, a, clock)
	other, err := ca.Open(a.Dir) // a second server: no token needed to check PINs
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ca.SetRemoteClock(other, clock.Now)
	code := h.otp(t, clock)
	var wg sync.WaitGroup
	results := make(chan error, 20)
	for i := range 20 {
		srv := a
		if i%2 == 1 {
			srv = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.authorize(srv, fmt.Sprintf("%08d", i), code, sha("x"))
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	checked := 0
	for err := range results {
		switch c := codeOf(err); c {
		case protocol.CSCInvalidPIN, protocol.RemotePINLocked:
			if c == protocol.CSCInvalidPIN || left(err) == 0 {
				checked++
			}
		case protocol.CSCInvalidRequest: // busy: other checks under way
		default:
			t.Errorf("a wrong PIN: %v", err)
		}
	}
	if checked > 3 {
		t.Errorf("%d wrong PINs checked; the policy allows 3", checked)
	}
	// Blocked now, whatever the tries that were only busy.
	for range 3 {
		h.authorize(a, "11111111", h.otp(t, clock), sha("x"))
	}
	if _, err := h.authorize(a, h.pin, h.otp(t, clock), sha("x")); codeOf(err) != protocol.RemotePINLocked {
		t.Fatalf("the right PIN on a blocked credential: %v", err)
	}
	ctx := context.Background()
	if err := a.UnlockRemote(ctx, h.UserID, "99999999", "11223344"); codeOf(err) != protocol.RemoteInvalidPUK {
		t.Fatalf("unlocking with a wrong PUK: %v", err)
	}
	if err := a.UnlockRemote(ctx, h.UserID, h.PUK, "11223344"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.authorize(a, "11223344", h.otp(t, clock), sha("x")); err != nil {
		t.Fatalf("the new PIN after unlocking: %v", err)
	}
}

// A one-time password is good once: the same code again is refused, and
// counted. A SAD signs only the hashes it lists, once: of eight requests
// at once, one signs.
func TestRemoteReplays(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{})
	h := enrolActive(t, a, clock)
	code := h.otp(t, clock)
	if _, err := h.authorize(a, h.pin, code, sha("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.authorize(a, h.pin, code, sha("b")); codeOf(err) != protocol.CSCInvalidOTP || left(err) != 4 {
		t.Fatalf("the same one-time password again: %v (%d left)", err, left(err))
	}
	sad, err := h.authorize(a, h.pin, h.otp(t, clock), sha("c"), sha("d"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.sign(a, sad.SAD, sha("e")); codeOf(err) != protocol.CSCInvalidRequest {
		t.Fatalf("a hash the SAD does not list: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	signed := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.sign(a, sad.SAD, sha("c"), sha("d")); err == nil {
				mu.Lock()
				signed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if signed != 1 {
		t.Fatalf("one SAD, eight signatures at once: %d signed, want 1", signed)
	}
	sad, _ = h.authorize(a, h.pin, h.otp(t, clock), sha("c"))
	clock.mu.Lock()
	clock.now = clock.now.Add(6 * time.Minute)
	clock.mu.Unlock()
	if _, err := h.sign(a, sad.SAD, sha("c")); codeOf(err) != protocol.CSCInvalidRequest || !strings.Contains(description(err), "expired") {
		t.Fatalf("a SAD after 6 minutes: %v", err)
	}
}

// The PIN changes with the PIN and a one-time password; the credential
// renews for a new key on the token, the old key destroyed with its
// certificate superseded.
func TestRemotePINChangeAndRenewal(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{})
	h := enrolActive(t, a, clock)
	ctx := context.Background()
	if err := a.ChangeRemotePIN(ctx, h.UserID, "00000000", h.otp(t, clock), "55667788"); codeOf(err) != protocol.CSCInvalidPIN {
		t.Fatalf("a PIN change with a wrong PIN: %v", err)
	}
	if err := a.ChangeRemotePIN(ctx, h.UserID, h.pin, h.otp(t, clock), "55667788"); err != nil {
		t.Fatal(err)
	}
	h.pin = "55667788"
	cert, err := a.RenewRemote(ctx, h.UserID, protocol.RemoteRenew{CredentialID: h.Serial, PIN: h.pin, OTP: h.otp(t, clock)})
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != h.Certificate.Subject.CommonName || cert.PublicKey.(*ecdsa.PublicKey).Equal(h.Certificate.PublicKey) {
		t.Fatalf("the successor: %s", cert.Subject)
	}
	listsSensitiveKey(t, testenv.ProcessToken(t), cert)
	old := h.Certificate
	h.Serial, h.Certificate = fmt.Sprintf("%x", cert.SerialNumber), cert
	sad, err := h.authorize(a, h.pin, h.otp(t, clock), sha("after"))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := h.sign(a, sad.SAD, sha("after"))
	if err != nil || !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), sha("after"), sigs[0]) {
		t.Fatalf("signing with the successor: %v", err)
	}
	if _, err := h.authorize(a, h.pin, h.otp(t, clock), sha("x")); err != nil {
		t.Fatal(err)
	}
	list, err := a.RemoteCredentials(ctx, h.UserID, protocol.CSCListRequest{CredentialInfo: true, Certificates: "chain"})
	if err != nil || len(list.CredentialIDs) != 1 || list.CredentialIDs[0] != h.Serial || len(list.CredentialInfos[0].Cert.Certificates) != 3 {
		t.Fatalf("credentials after the renewal: %+v %v", list, err)
	}
	// The superseded key is gone from the token.
	keys := openKeys(t, testenv.ProcessToken(t), testenv.ProcessToken(t).PIN)
	if _, err := keys.Key(old.PublicKey); !errors.Is(err, pkcs.ErrNotFound) {
		t.Errorf("the renewed credential's old key is still on the token: %v", err)
	}
}

// A holder's RSA key on the token signs PKCS #1 v1.5 with SHA-256, which
// crypto/rsa verifies; ECDSA's algorithm is refused for it.
func TestRemoteRSA(t *testing.T) {
	a, clock := remoteCAFor(t, ca.RemotePolicy{}, "rsa-3072")
	h := enrolActive(t, a, clock)
	pub, ok := h.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 3072 {
		t.Fatalf("the holder's key: %T", h.Certificate.PublicKey)
	}
	sad, err := h.authorize(a, h.pin, h.otp(t, clock), sha("rsa"))
	if err != nil {
		t.Fatal(err)
	}
	req := protocol.CSCSignHash{CredentialID: h.Serial, SAD: sad.SAD, SignAlgo: protocol.OIDECDSAWithSHA256, Hashes: []string{b64(sha("rsa"))}}
	if _, err := a.SignRemote(context.Background(), h.UserID, req); codeOf(err) != protocol.CSCInvalidRequest || !strings.Contains(description(err), "signAlgo") {
		t.Fatalf("ECDSA asked of an RSA key: %v", err)
	}
	req.SignAlgo = protocol.OIDSHA256WithRSA
	sigs, err := a.SignRemote(context.Background(), h.UserID, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sha("rsa"), sigs[0]); err != nil {
		t.Fatal(err)
	}
}

// Where renewals wait for a registration officer's approval, a remote
// renewal records its request and issues nothing: the new key made on the
// token is destroyed.
func TestRemoteRenewalAwaitsApproval(t *testing.T) {
	a, clock := remoteCA(t, ca.RemotePolicy{})
	h := enrolActive(t, a, clock)
	ctx := context.Background()
	if _, err := a.SetRenewalApproval(ctx, true); err != nil {
		t.Fatal(err)
	}
	keys := privateKeys(t)
	if keys < 4 { // the CA's three and the holder's
		t.Fatalf("pkcs11-tool lists %d private keys on the token", keys)
	}
	_, err := a.RenewRemote(ctx, h.UserID, protocol.RemoteRenew{CredentialID: h.Serial, PIN: h.pin, OTP: h.otp(t, clock)})
	var pending *ca.RenewalPendingError
	if !errors.As(err, &pending) {
		t.Fatalf("a renewal under approval: %v", err)
	}
	list, err := a.PendingRenewals(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("pending renewals: %+v %v", list, err)
	}
	creds, err := a.RemoteCredentials(ctx, h.UserID, protocol.CSCListRequest{})
	if err != nil || len(creds.CredentialIDs) != 1 || creds.CredentialIDs[0] != h.Serial {
		t.Fatalf("the credential after a renewal that waits: %+v %v", creds, err)
	}
	if n := privateKeys(t); n != keys {
		t.Fatalf("%d private keys on the token after the renewal that waits, %d before", n, keys)
	}
}

// privateKeys counts the private keys on the process's token, as
// pkcs11-tool lists them.
func privateKeys(t *testing.T) int {
	t.Helper()
	testenv.Require(t, "pkcs11-tool")
	tok := testenv.ProcessToken(t)
	cmd := exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
		"--list-objects", "--type", "privkey")
	cmd.Env = append(os.Environ(), tok.Env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	return strings.Count(string(out), "Private Key Object")
}
