package app

import (
	"context"
	"errors"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/local"
	"github.com/paraphe/paraphe/internal/testenv"
	"github.com/paraphe/paraphe/pkcs/remote"
)

// Settings → Remote signature, against a real paraphe-ca process: the
// envelope's user ID and initial password sign in; the initial password
// must be changed, each rule broken said in its own words (the rules the
// server applies: it refuses the same passwords for the same rules), the
// rules stated on the screen; a wrong PUK is refused with the tries
// left; the one-time-password key is shown as a QR code that zbarimg (not
// ours) reads back as the otpauth address shown beside it, which the Copy
// button puts on the clipboard; the app's first code, computed from the
// key the QR code holds, activates the certificate, and the card then
// says the account is active and the certificate's days left.
func TestSettingsRemoteJourney(t *testing.T) {
	testenv.Slow(t, "a remote-signing paraphe-ca process")
	testenv.Require(t, "zbarimg")
	u, c, secrets := remoteEnrolled(t)
	r := u.prefs.remote
	if r == nil {
		t.Fatal("Settings shows no Remote signature card though the policy allows remote signing")
	}
	remoteSignIn(t, u, secrets)
	remotePasswordRules(t, u, c.Policy, secrets)
	remoteNewPassword(t, u, "Giulia#2026")
	if r.puk == nil {
		t.Fatalf("no activation after the password change (shown: %q)", u.shown)
	}
	secret := remoteActivate(t, u, secrets["puk"])

	test.Type(r.code, "000000")
	test.Tap(r.primary)
	u.tasks.Wait()
	if !strings.Contains(u.shown, "rong or already used one-time password (4 tries left)") {
		t.Fatalf("a wrong first code: %q", u.shown)
	}
	test.Type(r.code, otpAt(t, secret, 0))
	test.Tap(r.primary)
	u.tasks.Wait()
	if r.status == nil || !strings.Contains(u.shown, "Your remote certificate is activated") {
		t.Fatalf("the right first code: %q", u.shown)
	}
	for _, want := range []string{"Signed in to remote signing as " + secrets["user"], "Status: active.", "Tries left: PIN 3, one-time password 5, PUK 3.",
		"Giulia Neri: valid until", "days left)"} {
		if !strings.Contains(r.status.Text, want) {
			t.Errorf("the status does not say %q:\n%s", want, r.status.Text)
		}
	}
	if n := remoteCerts(u); n != 1 {
		t.Errorf("the app lists %d remote certificates once activated", n)
	}
	// The app started again: the card asks the service where the account stands.
	u.prefs = newSettingsScreen(u)
	u.tasks.Wait()
	if s := u.prefs.remote.status; s == nil || !strings.Contains(s.Text, "Status: active.") {
		t.Fatalf("a new Settings screen does not show the account's status (shown: %q)", u.shown)
	}
}

// remoteSignIn: a wrong password, then the initial one, which must change.
func remoteSignIn(t *testing.T, u *UI, secrets map[string]string) {
	t.Helper()
	r := u.prefs.remote
	test.Type(r.userID, strings.ToLower(secrets["user"])) // as a person may type it
	test.Type(r.password, "Wrong#Password1")
	test.Tap(r.primary)
	u.tasks.Wait()
	if !strings.Contains(u.shown, "Wrong user ID or password") {
		t.Fatalf("a wrong password: %q", u.shown)
	}
	if r.password.Text != "" {
		t.Error("the password stays in its field")
	}
	test.Type(r.password, secrets["password"])
	test.Tap(r.primary)
	u.tasks.Wait()
	if r.newPassword == nil {
		t.Fatalf("the initial password is not asked to change (shown: %q)", u.shown)
	}
}

// remotePasswordRules: each rule broken has its own message, and the
// server refuses the same password for the same rule.
func remotePasswordRules(t *testing.T, u *UI, policy string, secrets map[string]string) {
	t.Helper()
	c := u.prefs.remote.newPassword
	if !strings.Contains(c.rules.Text, "At least 8 characters, with upper and lower case, a digit and a special character, never more than 2 identical in a row") {
		t.Errorf("the rules are not stated: %q", c.rules.Text)
	}
	pol, err := config.ReadPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.Remote(pol)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := local.RemoteService(context.Background(), pol)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ password, rule, says string }{
		{"Ab1#efg", "too_short", "at least 8 characters"},
		{"Ab1#" + strings.Repeat("xy", 31), "too_long", "at most 64 characters"},
		{"giulia#2026", "need_upper", "an upper-case letter"},
		{"GIULIA#2026", "need_lower", "a lower-case letter"},
		{"Giulia#Neri", "need_digit", "a digit"},
		{"Giulia2026", "need_special", "a special character"},
		{"Giulia#2000", "repeat", "more than 2 times in a row"},
		{secrets["password"], "same_as_current", "differ from the current one"},
	} {
		c.pin.SetText("")
		test.Type(c.pin, tc.password)
		test.Type(c.again, "")
		c.again.SetText(tc.password)
		if !strings.Contains(c.info.Text, tc.says) || !u.prefs.remote.primary.Disabled() {
			t.Errorf("%s (%q): the app says %q", tc.rule, tc.password, c.info.Text)
		}
		_, err := store.Login(context.Background(), svc, secrets["user"], []byte(secrets["password"]), []byte(tc.password))
		var re *remote.PasswordRuleError
		if !errors.As(err, &re) || re.Rule != tc.rule {
			t.Errorf("%s (%q): the server says %v", tc.rule, tc.password, err)
		}
	}
	c.pin.SetText("Giulia#2026")
	c.again.SetText("Giulia#2025")
	if !strings.Contains(c.info.Text, "The two passwords differ") || !u.prefs.remote.primary.Disabled() {
		t.Errorf("two passwords that differ: %q", c.info.Text)
	}
}

// remoteNewPassword chooses pw.
func remoteNewPassword(t *testing.T, u *UI, pw string) {
	t.Helper()
	r := u.prefs.remote
	r.newPassword.pin.SetText(pw)
	r.newPassword.again.SetText(pw)
	if r.primary.Disabled() {
		t.Fatalf("a good password is refused: %q", r.newPassword.info.Text)
	}
	test.Tap(r.primary)
	u.tasks.Wait()
}

// remoteActivate: a wrong PUK, then the right one and the PIN; the QR
// code shown holds the otpauth address shown, whose key it returns.
func remoteActivate(t *testing.T, u *UI, puk string) string {
	t.Helper()
	r := u.prefs.remote
	wrong := "00000000"
	if puk == wrong {
		wrong = "11111111"
	}
	r.pin.pin.SetText("20261201")
	r.pin.again.SetText("20261201")
	test.Tap(r.primary) // no PUK typed: nothing sent, no try spent
	u.tasks.Wait()
	if !strings.Contains(u.shown, "Type the PUK of your activation envelope") {
		t.Fatalf("activation without a PUK: %q", u.shown)
	}
	for _, p := range []string{wrong, puk} {
		test.Type(r.puk, p)
		r.pin.pin.SetText("20261201")
		r.pin.again.SetText("20261201")
		test.Tap(r.primary)
		u.tasks.Wait()
		if p == wrong && !strings.Contains(u.shown, "rong PUK (2 tries left)") {
			t.Fatalf("a wrong PUK: %q", u.shown)
		}
	}
	if r.qr == nil || !strings.HasPrefix(r.uri.Text, "otpauth://totp/") {
		t.Fatalf("no QR code, or no otpauth address (shown: %q)", u.shown)
	}
	file := filepath.Join(t.TempDir(), "qr.png")
	f, _ := os.Create(file)
	png.Encode(f, r.qrImage)
	f.Close()
	out, err := exec.Command("zbarimg", "--raw", "-q", file).Output()
	if err != nil {
		t.Fatalf("zbarimg reads no QR code: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != r.uri.Text {
		t.Fatalf("the QR code holds %q, the screen shows %q", got, r.uri.Text)
	}
	test.Tap(findButton(t, r.content, "Copy the address"))
	if got := u.app.Clipboard().Content(); got != r.uri.Text {
		t.Errorf("the clipboard holds %q", got)
	}
	uri, err := url.Parse(r.uri.Text)
	if err != nil {
		t.Fatal(err)
	}
	secret := uri.Query().Get("secret")
	if secret == "" || !hasLabel(r.content, "Key to type by hand: "+remote.GroupKey(secret)) {
		t.Errorf("the key to type by hand is not shown in groups of four (%q)", secret)
	}
	return secret
}

// remoteCerts counts the app's remote certificates.
func remoteCerts(u *UI) int {
	n := 0
	for _, c := range u.certs {
		if c.Store.Name() == remote.Name {
			n++
		}
	}
	return n
}

// hasLabel reports whether o shows a label that says text.
func hasLabel(o fyne.CanvasObject, text string) bool {
	found := false
	walk(o, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			found = true
		}
	})
	return found
}

// TestRemoteScreenshots draws Settings → Remote signature at each step
// (sign-in, the password to change with a rule broken, activation, the
// one-time-password key as a QR code, the account active), in English and
// in French, at 800×600 in the light theme, into the folder
// $PARAPHE_SCREENSHOTS (docs/screenshots): skipped without it.
//
//	PARAPHE_SCREENSHOTS=$PWD/docs/screenshots go test -run TestRemoteScreenshots ./app
func TestRemoteScreenshots(t *testing.T) {
	dir := os.Getenv("PARAPHE_SCREENSHOTS")
	if dir == "" {
		t.Skip("PARAPHE_SCREENSHOTS names no folder")
	}
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			u, _, secrets := remoteEnrolled(t)
			u.app.Settings().SetTheme(theme.LightTheme())
			u.prefs.language.SetSelected(languageNames[lang])
			u.tabs.SelectIndex(4)
			u.win.Resize(smallest)
			r := u.prefs.remote
			shot := func(name string) {
				t.Helper()
				u.win.Resize(smallest)
				u.tasks.Wait()
				scroll := u.prefs.content.(*container.Scroll)
				scroll.Offset.Y = r.content.Position().Y
				scroll.Refresh()
				capture(t, u, filepath.Join(dir, lang, "remote-"+name+".png"))
			}
			test.Type(r.userID, secrets["user"])
			shot("1-sign-in")
			test.Type(r.password, secrets["password"])
			test.Tap(r.primary)
			u.tasks.Wait()
			test.Type(r.newPassword.pin, "giulia#2026")
			shot("2-password")
			remoteNewPassword(t, u, "Giulia#2026")
			r.puk.SetText(secrets["puk"])
			r.pin.pin.SetText("20261201")
			u.win.Canvas().Focus(r.pin.again) // one field has the cursor, as for a user
			test.Type(r.pin.again, "2026")
			shot("3-activate")
			test.Type(r.pin.again, "1201")
			test.Tap(r.primary)
			u.tasks.Wait()
			uri, _ := url.Parse(r.uri.Text)
			shot("4-otp")
			test.Type(r.code, otpAt(t, uri.Query().Get("secret"), 0))
			test.Tap(r.primary)
			u.tasks.Wait()
			shot("5-active")
		})
	}
}
