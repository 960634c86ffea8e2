package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/internal/explain"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs"
)

// tokenWorld is a world whose policy points at a fresh SoftHSM token.
func tokenWorld(t *testing.T, initArgs ...string) (*world, *testenv.Token) {
	t.Helper()
	w := newWorldWith(t, initArgs...)
	tok := testenv.NewToken(t, "card")
	pol := testenv.PolicyWith(t, w.srv.Policy, func(p map[string]any) {
		p["pkcs11"] = map[string]any{"module": tok.Module}
	})
	w.env = append(w.env, "PARAPHE_POLICY="+pol)
	w.env = append(w.env, tok.Env...)
	return w, tok
}

type certJSONView struct {
	ID, Name, Title, Store string
	MemberNumber           string `json:"member_number"`
	Serial                 string
	NotAfter               string `json:"not_after"`
	DaysLeft               int    `json:"days_left"`
	Default                bool
}

func (w *world) certs(t *testing.T) []certJSONView {
	t.Helper()
	r := runBin(t, "", w.env, "paraphe", "certs", "--json")
	var out []certJSONView
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
		t.Fatalf("certs --json: %+v", r)
	}
	return out
}

func TestActivateOntoToken(t *testing.T) {
	w, tok := tokenWorld(t)
	ref := w.enroll(t)
	env := append([]string{"PARAPHE_PIN=" + tok.PIN}, w.env...)
	r := runBin(t, "", env, "paraphe", "activate", "--store", "pkcs11", "--token", tok.Label, "--ref", ref,
		"--answers-file", w.answersFile(t, testenv.Answers...))
	if r.code != 0 || !strings.Contains(r.stdout, "generated on your token") {
		t.Fatalf("activate onto the token: %+v", r)
	}
	certs := w.certs(t)
	if len(certs) != 1 || certs[0].Store != "pkcs11" || certs[0].MemberNumber != "75-1234" {
		t.Fatalf("certs: %+v", certs)
	}
	// pkcs11-tool sees the key as sensitive and never extractable.
	out, err := exec.Command("pkcs11-tool", "--module", tok.Module, "--token-label", tok.Label, "--login", "--pin", tok.PIN,
		"--list-objects", "--type", "privkey").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "never extractable") || !strings.Contains(string(out), "sensitive") {
		t.Fatalf("pkcs11-tool: %v\n%s", err, out)
	}
	// The token key signs, and the certificate's public key verifies it.
	store, err := pkcs.OpenToken(tok.Module, tok.Label)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key, err := store.Open(certs[0].ID, []byte(tok.PIN))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("a deed"))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	exported := runBin(t, "", w.env, "paraphe", "export", "--cert", certs[0].ID)
	block, _ := pem.Decode([]byte(exported.stdout))
	if block == nil {
		t.Fatalf("export: %+v", exported)
	}
	cert, _ := x509.ParseCertificate(block.Bytes)
	if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("the token signature does not verify with the certificate")
	}
	if strings.Contains(exported.stdout, "PRIVATE") {
		t.Fatal("export wrote private key material")
	}
}

func TestTokenPINLifecycleCLI(t *testing.T) {
	w, tok := tokenWorld(t)
	ref := w.enroll(t)
	env := append([]string{"PARAPHE_PIN=" + tok.PIN}, w.env...)
	if r := runBin(t, "", env, "paraphe", "activate", "--store", "pkcs11", "--ref", ref,
		"--answers-file", w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	// Three wrong PINs: each says so, with what the token tells of the tries left.
	for i := range 3 {
		r := runBin(t, "", append([]string{"PARAPHE_PIN=00000000", "PARAPHE_NEW_PIN=11112222"}, w.env...), "paraphe", "pin", "change", "--token", tok.Label)
		if r.code != explain.ExitWrongPIN || !strings.Contains(r.stderr, "wrong PIN") {
			t.Fatalf("wrong PIN %d: %+v", i+1, r)
		}
		if i > 0 && !strings.Contains(r.stderr, "few tries are left") {
			t.Fatalf("wrong PIN %d does not warn that tries run low: %s", i+1, r.stderr)
		}
	}
	// Change it for real, then forget it: unlock with the PUK.
	r := runBin(t, "", append([]string{"PARAPHE_PIN=" + tok.PIN, "PARAPHE_NEW_PIN=11112222"}, w.env...), "paraphe", "pin", "change", "--token", tok.Label)
	if r.code != 0 || !strings.Contains(r.stdout, "PIN is changed") {
		t.Fatalf("pin change: %+v", r)
	}
	r = runBin(t, "", append([]string{"PARAPHE_PUK=99999999", "PARAPHE_NEW_PIN=33334444"}, w.env...), "paraphe", "pin", "unlock", "--token", tok.Label)
	if r.code != explain.ExitWrongPUK || !strings.Contains(r.stderr, "wrong PUK") {
		t.Fatalf("unlock with a wrong PUK: %+v", r)
	}
	r = runBin(t, "", append([]string{"PARAPHE_PUK=" + tok.SOPIN, "PARAPHE_NEW_PIN=1234"}, w.env...), "paraphe", "pin", "unlock", "--token", tok.Label)
	if r.code != explain.ExitPINPolicy || !strings.Contains(r.stderr, "at least 8") {
		t.Fatalf("unlock with a PIN breaking the token policy: %+v", r)
	}
	r = runBin(t, "", append([]string{"PARAPHE_PUK=" + tok.SOPIN, "PARAPHE_NEW_PIN=33334444"}, w.env...), "paraphe", "pin", "unlock", "--token", tok.Label)
	if r.code != 0 || !strings.Contains(r.stdout, "unlocked") {
		t.Fatalf("unlock: %+v", r)
	}
	// The new PIN opens the key: renewal needs it.
	certs := w.certs(t)
	r = runBin(t, "", append([]string{"PARAPHE_PIN=33334444"}, w.env...), "paraphe", "renew", "--cert", certs[0].ID)
	if r.code != 0 {
		t.Fatalf("renew with the new PIN: %+v", r)
	}
}

func TestKeychainPINChangeAndNoPUK(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorld(t)
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	// Each broken rule of the password policy has its own message.
	rules := map[string]string{
		"Sh0rt!":          "too short",
		"corr3ct-horse!":  "upper-case letter",
		"CORR3CT-HORSE!":  "lower-case letter",
		"Correct-Horse!":  "needs a digit",
		"Corr3ctHorse":    "special character",
		"Corr3ct-Hooorse": "more than 2 times in a row",
	}
	for newPIN, want := range rules {
		r := runBin(t, "", append([]string{"PARAPHE_PIN=" + testPIN, "PARAPHE_NEW_PIN=" + newPIN}, w.env...), "paraphe", "pin", "change")
		if r.code != explain.ExitPINPolicy || !strings.Contains(r.stderr, want) {
			t.Errorf("new PIN %q: want %q, got %+v", newPIN, want, r)
		}
	}
	r := runBin(t, "", append([]string{"PARAPHE_PIN=Wrong-Pin-1", "PARAPHE_NEW_PIN=N3w-Secret!"}, w.env...), "paraphe", "pin", "change")
	if r.code != explain.ExitWrongPIN || !strings.Contains(r.stderr, "4 tries left") {
		t.Fatalf("wrong current PIN: %+v", r)
	}
	r = runBin(t, "", append([]string{"PARAPHE_PIN=" + testPIN, "PARAPHE_NEW_PIN=N3w-Secret!"}, w.env...), "paraphe", "pin", "change")
	if r.code != 0 || !strings.Contains(r.stdout, "PIN changed") {
		t.Fatalf("pin change: %+v", r)
	}
	r = runBin(t, "", w.env, "paraphe", "pin", "unlock")
	if r.code != explain.ExitNoPUK || !strings.Contains(r.stderr, "no PUK") {
		t.Fatalf("unlock of a keychain key: %+v", r)
	}
	// The new PIN is the one renewal asks for.
	if r := runBin(t, "", append([]string{"PARAPHE_PIN=N3w-Secret!"}, w.env...), "paraphe", "renew"); r.code != 0 {
		t.Fatalf("renew with the new PIN: %+v", r)
	}
}

func TestRenewalBothStores(t *testing.T) {
	testenv.NeedSecretService(t)
	w, tok := tokenWorld(t, "--renewal-coupon")
	answers := w.answersFile(t, testenv.Answers...)
	if r := w.activate(t, w.enroll(t), answers); r.code != 0 {
		t.Fatalf("activate into the keychain: %+v", r)
	}
	if r := runBin(t, "", append([]string{"PARAPHE_PIN=" + tok.PIN}, w.env...), "paraphe", "activate", "--store", "pkcs11",
		"--ref", w.enroll(t), "--answers-file", answers); r.code != 0 {
		t.Fatalf("activate onto the token: %+v", r)
	}
	coupons := strings.Fields(runBin(t, "", nil, "paraphe-ca", "coupon", "create", "--dir", w.caDir, "--count", "3").stdout)
	if len(coupons) != 3 {
		t.Fatalf("coupons: %v", coupons)
	}
	before := w.certs(t)
	pins := map[string]string{"keychain": testPIN, "pkcs11": tok.PIN}
	for i, old := range before {
		env := append([]string{"PARAPHE_PIN=" + pins[old.Store]}, w.env...)
		if r := runBin(t, "", env, "paraphe", "renew", "--cert", old.ID); r.code != explain.ExitRefused || !strings.Contains(r.stderr, "coupon") {
			t.Fatalf("%s renewal without coupon: %+v", old.Store, r)
		}
		r := runBin(t, "", env, "paraphe", "renew", "--cert", old.ID, "--coupon", coupons[i])
		if r.code != 0 || !strings.Contains(r.stdout, "renewed") {
			t.Fatalf("%s renewal: %+v", old.Store, r)
		}
		// A coupon pays once; a certificate renews once.
		if r := runBin(t, "", env, "paraphe", "renew", "--cert", old.ID, "--coupon", coupons[2]); r.code != explain.ExitRefused || !strings.Contains(r.stderr, "already been renewed") {
			t.Fatalf("%s second renewal: %+v", old.Store, r)
		}
	}
	after := w.certs(t)
	if len(after) != 4 {
		t.Fatalf("%d certificates after renewal, want the 2 old and 2 new", len(after))
	}
	for _, old := range before {
		var next *certJSONView
		for i := range after {
			if after[i].Store == old.Store && after[i].ID != old.ID {
				next = &after[i]
			}
		}
		if next == nil || next.Name != old.Name || next.MemberNumber != old.MemberNumber || next.Serial == old.Serial || next.NotAfter < old.NotAfter {
			t.Fatalf("successor of %+v: %+v", old, next)
		}
	}
	// The last renewed is the default now.
	for _, c := range after {
		if c.Default && c.Store != "pkcs11" {
			t.Fatalf("default after renewals: %+v", c)
		}
	}
	// Spent coupon on a fresh certificate: refused; and a revoked certificate cannot renew.
	var fresh certJSONView // a successor, not yet renewed
	for _, c := range after {
		if c.ID != before[0].ID && c.ID != before[1].ID {
			fresh = c
		}
	}
	env := append([]string{"PARAPHE_PIN=" + pins[fresh.Store]}, w.env...)
	if r := runBin(t, "", env, "paraphe", "renew", "--cert", fresh.ID, "--coupon", coupons[0]); r.code != explain.ExitRefused || !strings.Contains(r.stderr, "already been used") {
		t.Fatalf("spent coupon: %+v", r)
	}
	if r := runBin(t, "", nil, "paraphe-ca", "revoke", "--dir", w.caDir, fresh.Serial, "--reason", "keyCompromise"); r.code != 0 {
		t.Fatalf("revoke: %+v", r)
	}
	if r := runBin(t, "", env, "paraphe", "renew", "--cert", fresh.ID, "--coupon", coupons[2]); r.code != explain.ExitRefused || !strings.Contains(r.stderr, "revoked") {
		t.Fatalf("revoked certificate renewal: %+v", r)
	}
}

func TestExpiryWarning(t *testing.T) {
	testenv.NeedSecretService(t)
	w := newWorldWith(t, "--validity", "20")
	if r := w.activate(t, w.enroll(t), w.answersFile(t, testenv.Answers...)); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	r := runBin(t, "", w.env, "paraphe", "certs")
	if !strings.Contains(r.stderr, "expires in 19 days: renew it soon") {
		t.Fatalf("no expiry warning: %+v", r)
	}
	if r := runBin(t, "", w.env, "paraphe", "export"); !strings.Contains(r.stderr, "renew it soon") {
		t.Fatalf("the warning is not on every command: %+v", r)
	}
}

func TestImportPKCS12(t *testing.T) {
	testenv.NeedSecretService(t)
	testenv.Require(t, "openssl")
	w, tok := tokenWorld(t)
	dir := t.TempDir()
	// openssl makes a key, a certificate and a PKCS#12 file of them.
	script := `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem -days 30 -subj "/CN=Paolo Verdi/serialNumber=TO-77" 2>/dev/null
openssl pkcs12 -export -inkey k.pem -in c.pem -out id.p12 -passout pass:p12-secret`
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	p12 := filepath.Join(dir, "id.p12")
	bad := append([]string{"PARAPHE_P12_PASSWORD=nope", "PARAPHE_PIN=" + testPIN}, w.env...)
	if r := runBin(t, "", bad, "paraphe", "import", p12); r.code != explain.ExitBadFile || !strings.Contains(r.stderr, "password") {
		t.Fatalf("wrong password: %+v", r)
	}
	good := append([]string{"PARAPHE_P12_PASSWORD=p12-secret", "PARAPHE_PIN=" + testPIN}, w.env...)
	if r := runBin(t, "", good, "paraphe", "import", p12); r.code != 0 || !strings.Contains(r.stdout, "Paolo Verdi") {
		t.Fatalf("import into the keychain: %+v", r)
	}
	good = append([]string{"PARAPHE_P12_PASSWORD=p12-secret", "PARAPHE_PIN=" + tok.PIN}, w.env...)
	if r := runBin(t, "", good, "paraphe", "import", "--store", "pkcs11", p12); r.code != 0 {
		t.Fatalf("import onto the token: %+v", r)
	}
	certs := w.certs(t)
	if len(certs) != 2 || certs[0].MemberNumber != "TO-77" {
		t.Fatalf("imported certificates: %+v", certs)
	}
	out := filepath.Join(dir, "exported.pem")
	if r := runBin(t, "", w.env, "paraphe", "export", "--cert", certs[0].ID, "-o", out); r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	want, _ := os.ReadFile(filepath.Join(dir, "c.pem"))
	got, _ := os.ReadFile(out)
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Fatalf("exported chain differs from the imported certificate:\n%s", got)
	}
	if r := runBin(t, "", good, "paraphe", "import", filepath.Join(dir, "c.pem")); r.code != explain.ExitBadFile {
		t.Fatalf("a PEM file given as PKCS#12: %+v", r)
	}
}
