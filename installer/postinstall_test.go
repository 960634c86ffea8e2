package installer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
)

// macOS's postinstall cannot run where it is meant to (no Mac here). What
// is checked: shellcheck finds nothing in it, and it runs, under dash and
// under bash in POSIX mode (macOS's /bin/sh is one or the other), against
// a folder standing for the target volume, with the real paraphe's admin
// policy write and the real LaunchAgent file. Only macOS's own tools stand
// in: PlistBuddy (reading the managed preferences with Python's plistlib),
// launchctl (recording what it is asked) and BSD stat (the console user).
// What stays unproven until a Mac runs it: those tools' real answers, and
// launchd loading the agent.

func TestMacOSPostinstallShellcheck(t *testing.T) {
	testenv.Require(t, "shellcheck")
	if out, err := exec.Command("shellcheck", "-s", "sh", "macos/postinstall").CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// macVolume is a target volume with Paraphe.app installed in it.
type macVolume struct {
	root, stubs, launchctlLog string
}

func newMacVolume(t *testing.T) *macVolume {
	t.Helper()
	v := &macVolume{root: filepath.Join(t.TempDir(), "Macintosh HD"), stubs: t.TempDir()}
	v.launchctlLog = filepath.Join(v.stubs, "launchctl.log")
	contents := filepath.Join(v.root, "Applications", "Paraphe.app", "Contents")
	os.MkdirAll(filepath.Join(contents, "Resources"), 0o755)
	if out, err := exec.Command("go", "build", "-o", filepath.Join(contents, "MacOS", "paraphe"), "../cmd/paraphe").CombinedOutput(); err != nil {
		t.Fatalf("go build paraphe: %v\n%s", err, out)
	}
	agent, _ := os.ReadFile("macos/org.paraphe.bridge.plist")
	os.WriteFile(filepath.Join(contents, "Resources", "org.paraphe.bridge.plist"), agent, 0o644)
	stubs := map[string]string{
		"PlistBuddy": `#!/usr/bin/python3
import plistlib, sys
# PlistBuddy -c "Print :KEY" FILE
key = sys.argv[2].split(":", 1)[1]
with open(sys.argv[3], "rb") as f:
    v = plistlib.load(f).get(key)
if v is None:
    print('Print: Entry, ":%s", Does Not Exist' % key, file=sys.stderr)
    sys.exit(1)
print(("true" if v else "false") if isinstance(v, bool) else v)
`,
		"launchctl": "#!/bin/sh\necho \"$*\" >> " + v.launchctlLog + "\n",
		"stat":      "#!/bin/sh\n[ \"$*\" = '-f %u /dev/console' ] && echo 501\n",
	}
	for name, text := range stubs {
		os.WriteFile(filepath.Join(v.stubs, name), []byte(text), 0o755)
	}
	return v
}

// prefs writes the managed preferences (nil: none).
func (v *macVolume) prefs(t *testing.T, keys map[string]any) {
	t.Helper()
	path := filepath.Join(v.root, "Library", "Managed Preferences", "org.paraphe.plist")
	if keys == nil {
		os.Remove(path)
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<plist version=\"1.0\"><dict>\n")
	for k, val := range keys {
		switch x := val.(type) {
		case bool:
			fmt.Fprintf(&b, "<key>%s</key><%t/>\n", k, x)
		default:
			fmt.Fprintf(&b, "<key>%s</key><string>%s</string>\n", k, x)
		}
	}
	b.WriteString("</dict></plist>\n")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte(b.String()), 0o644)
}

// install runs the postinstall as Installer does, under shell sh.
func (v *macVolume) install(t *testing.T, shell []string) (int, string) {
	t.Helper()
	os.Remove(v.launchctlLog)
	script, _ := filepath.Abs("macos/postinstall")
	cmd := exec.Command(shell[0], append(shell[1:], script, "/tmp/paraphe.pkg", "/Applications", v.root+"/")...)
	cmd.Env = append(os.Environ(), "PATH="+v.stubs+":"+os.Getenv("PATH"), "PLISTBUDDY="+filepath.Join(v.stubs, "PlistBuddy"), "PARAPHE_LANG=en")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

func (v *macVolume) path(parts ...string) string {
	return filepath.Join(append([]string{v.root}, parts...)...)
}

func TestMacOSPostinstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds paraphe")
	}
	if os.Geteuid() != 0 {
		t.Skip("the postinstall gives its files to root, as Installer runs it")
	}
	testenv.Require(t, "dash", "bash", "/usr/bin/python3")
	v := newMacVolume(t)
	for _, shell := range [][]string{{"dash"}, {"bash", "--posix"}} {
		t.Run(shell[0], func(t *testing.T) { postinstallJourney(t, v, shell) })
	}
}

func postinstallJourney(t *testing.T, v *macVolume, shell []string) {
	fp := strings.Repeat("ab", 32)
	v.prefs(t, map[string]any{"CA_URL": "https://ca.example.invalid", "CA_FINGERPRINT": fp, "PROXY": "none",
		"BRIDGE_PORT": "31000", "WEB_ORIGINS": "https://marches.example.fr,https://portal.example:8443", "BridgeAtLogin": true})
	code, out := v.install(t, shell)
	if code != 0 {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	if link, _ := os.Readlink(v.path("usr", "local", "bin", "paraphe")); link != "/Applications/Paraphe.app/Contents/MacOS/paraphe" {
		t.Errorf("/usr/local/bin/paraphe links to %q", link)
	}
	policy := v.path("Library", "Application Support", "Paraphe", "policy.json")
	p, err := config.ReadPolicy(policy)
	if err != nil || p.CA.URL != "https://ca.example.invalid" || p.CA.Anchors[0] != fp || p.Proxy != "none" || p.BridgePort != 31000 ||
		!slices.Equal(p.WebOrigins, []string{"https://marches.example.fr", "https://portal.example:8443"}) {
		t.Fatalf("the policy: %v %+v\n%s", err, p, out)
	}
	agent := v.path("Library", "LaunchAgents", "org.paraphe.bridge.plist")
	want, _ := os.ReadFile("macos/org.paraphe.bridge.plist")
	got, _ := os.ReadFile(agent)
	for _, f := range []string{policy, agent} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	calls, _ := os.ReadFile(v.launchctlLog)
	if !bytes.Equal(got, want) || !strings.Contains(string(calls), "bootstrap gui/501 "+agent+"\n") {
		t.Fatalf("the LaunchAgent: installed %v, launchctl asked:\n%s", bytes.Equal(got, want), calls)
	}
	// An upgrade whose preferences say no more bridge at login: the
	// agent unloaded for the user at the screen and removed.
	v.prefs(t, map[string]any{"BridgeAtLogin": false})
	if code, out := v.install(t, shell); code != 0 || !strings.Contains(out, "no longer starts at login") {
		t.Fatalf("BridgeAtLogin false: %d\n%s", code, out)
	}
	calls, _ = os.ReadFile(v.launchctlLog)
	if _, err := os.Stat(agent); err == nil || !strings.Contains(string(calls), "bootout gui/501 "+agent) {
		t.Fatalf("the agent is still there, or not unloaded:\n%s", calls)
	}
	if p2, _ := config.ReadPolicy(policy); p2 == nil || p2.CA.URL != p.CA.URL || p2.BridgePort != 31000 {
		t.Fatal("preferences without a key changed the policy")
	}
	postinstallRefusals(t, v, shell, policy)
}

// postinstallRefusals: preferences that make no valid policy fail the
// installation and leave the policy as it was; no preferences leave it
// alone; a damaged package says so.
func postinstallRefusals(t *testing.T, v *macVolume, shell []string, policy string) {
	before, _ := os.ReadFile(policy)
	v.prefs(t, map[string]any{"WEB_ORIGINS": "http://marches.example.fr"})
	code, out := v.install(t, shell)
	if after, _ := os.ReadFile(policy); code != 1 || !strings.Contains(out, "do not make a valid policy") || !bytes.Equal(before, after) {
		t.Fatalf("an invalid origin: exit %d, policy changed %v\n%s", code, !bytes.Equal(before, after), out)
	}
	v.prefs(t, nil)
	if code, out := v.install(t, shell); code != 0 || !strings.Contains(out, "the machine policy is left as it is") {
		t.Fatalf("no preferences: %d\n%s", code, out)
	}
	exe := v.path("Applications", "Paraphe.app", "Contents", "MacOS", "paraphe")
	os.Rename(exe, exe+".away")
	defer os.Rename(exe+".away", exe)
	if code, out := v.install(t, shell); code != 1 || !strings.Contains(out, "the package is damaged") {
		t.Fatalf("no executable: %d\n%s", code, out)
	}
}
