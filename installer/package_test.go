// Package installer holds the packages' sources (installer/linux,
// installer/windows) and their acceptance tests, which "make package-test"
// runs after "make package" with PARAPHE_DIST naming the dist/ folder:
// the packages are inspected with the real tools (dpkg-deb, lintian, rpm,
// msiinfo, osslsigncode, file), and as root the .deb is installed,
// upgraded, removed and purged on this machine.
package installer

import (
	"bytes"
	"debug/pe"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/paraphe/paraphe/config"
	"github.com/paraphe/paraphe/internal/testenv"
)

func TestMain(m *testing.M) {
	// The Secret Service moves HOME, and with it Go's caches: the tests
	// that build (the macOS postinstall's paraphe) keep the user's.
	if out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output(); err == nil {
		if vs := strings.Fields(string(out)); len(vs) == 3 {
			os.Setenv("GOCACHE", vs[0])
			os.Setenv("GOMODCACHE", vs[1])
			os.Setenv("GOPATH", vs[2])
		}
	}
	os.Exit(testenv.MainWithSecretService(m))
}

// dist returns the single file of dist/ matching pattern, or skips when
// the packages were not built (go test ./... without make package-test).
func dist(t *testing.T, pattern string) string {
	t.Helper()
	dir := os.Getenv("PARAPHE_DIST")
	if dir == "" {
		t.Skip("the packages are tested by make package-test (PARAPHE_DIST names dist/)")
	}
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) != 1 {
		t.Fatalf("%s: %d files match %s, want one (run make package)", dir, len(m), pattern)
	}
	return m[0]
}

// run runs a command and returns its combined output; it fails the test
// when the exit code is not want.
func run(t *testing.T, want int, name string, args ...string) string {
	t.Helper()
	return runIn(t, "", want, name, args...)
}

// runIn is run in folder dir.
func runIn(t *testing.T, dir string, want int, name string, args ...string) string {
	t.Helper()
	testenv.Require(t, name)
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PARAPHE_LANG=en")
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if code != want {
		t.Fatalf("%s %s: exit %d, want %d\n%s", name, strings.Join(args, " "), code, want, out)
	}
	return string(out)
}

func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// manPages are the manual pages the .deb carries, one per binary
// (paraphe-portal's is in its own package).
var manPages = []string{"paraphe", "paraphe-ca", "paraphe-exchange"}

// The .deb as built: its fields, its files, its configuration file, and
// lintian, the desktop entry validator and man agree it is sound.
func TestDebContents(t *testing.T) {
	deb := dist(t, "paraphe_*_amd64.deb")
	info := run(t, 0, "dpkg-deb", "--info", deb)
	mustContain(t, "control", info, "Package: paraphe", "Architecture: amd64", "Depends: libc6",
		"Recommends: gnome-keyring | keepassxc | libkf5wallet-bin, opensc-pkcs11, pcscd, xdg-desktop-portal, xdg-utils")
	if conf := run(t, 0, "dpkg-deb", "--info", deb, "conffiles"); strings.TrimSpace(conf) != "/etc/paraphe/policy.json" {
		t.Fatalf("conffiles: %q", conf)
	}
	files := run(t, 0, "dpkg-deb", "--contents", deb)
	mustContain(t, "contents", files, "./usr/bin/paraphe\n", "./usr/bin/paraphe-ca\n", "./usr/bin/paraphe-exchange\n", "./etc/paraphe/policy.json\n",
		"./usr/share/applications/paraphe.desktop\n", "./usr/share/icons/hicolor/48x48/apps/paraphe.png\n",
		"./usr/share/icons/hicolor/scalable/apps/paraphe.svg\n", "./usr/share/man/man1/paraphe.1.gz\n",
		"./usr/share/man/man1/paraphe-ca.1.gz\n", "./usr/share/man/man1/paraphe-exchange.1.gz\n", "./usr/share/doc/paraphe/copyright\n",
		"./usr/lib/systemd/user/paraphe-bridge.socket\n", "./usr/lib/systemd/user/paraphe-bridge.service\n")

	// Every tag lintian raises fails, infos included, unless overridden
	// (installer/linux/lintian-overrides says why for each).
	out := run(t, 0, "lintian", "--display-info", "--fail-on", "error,warning,info", deb)
	for _, l := range strings.Split(out, "\n") {
		if regexp.MustCompile(`^[EWIXP]: `).MatchString(l) {
			t.Errorf("lintian: %s", l)
		}
	}

	root := t.TempDir()
	run(t, 0, "dpkg-deb", "-x", deb, root)
	run(t, 0, "desktop-file-validate", filepath.Join(root, "usr/share/applications/paraphe.desktop"))
	for _, page := range manPages {
		cmd := exec.Command("man", "--warnings", "-l", filepath.Join(root, "usr/share/man/man1", page+".1.gz"))
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 || !strings.Contains(stdout.String(), "EXIT STATUS") {
			t.Errorf("man %s: %v\n%s", page, err, stderr.String())
		}
	}
	// Position-independent, dynamically linked (cgo), for amd64.
	mustContain(t, "file", run(t, 0, "file", filepath.Join(root, "usr/bin/paraphe")), "ELF 64-bit LSB pie executable", "x86-64", "dynamically linked")
	tmpl, _ := os.ReadFile("linux/policy.json")
	if shipped, _ := os.ReadFile(filepath.Join(root, "etc/paraphe/policy.json")); !bytes.Equal(shipped, tmpl) {
		t.Fatal("the shipped policy is not installer/linux/policy.json")
	}
}

// The .rpm: same files, the policy a configuration file never replaced.
func TestRPMContents(t *testing.T) {
	rpm := dist(t, "paraphe-[0-9]*.x86_64.rpm") // not paraphe-portal's
	flags := run(t, 0, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", rpm)
	mustContain(t, "rpm files", flags, "/etc/paraphe/policy.json cn\n", "/usr/bin/paraphe \n", "/usr/bin/paraphe-ca \n",
		"/usr/bin/paraphe-exchange \n", "/usr/share/man/man1/paraphe-exchange.1.gz",
		"/usr/share/man/man1/paraphe.1.gz", "/usr/share/applications/paraphe.desktop", "/usr/share/icons/hicolor/256x256/apps/paraphe.png",
		"/usr/lib/systemd/user/paraphe-bridge.socket \n", "/usr/lib/systemd/user/paraphe-bridge.service \n")
	if strings.Contains(flags, "/usr/share/icons/hicolor \n") {
		t.Error("the rpm owns the icon theme's folder")
	}
	mustContain(t, "rpm recommends", run(t, 0, "rpm", "-qp", "--recommends", rpm), "gnome-keyring", "opensc")
	mustContain(t, "rpm info", run(t, 0, "rpm", "-qip", rpm), "Name        : paraphe", "Architecture: x86_64")
}

// The portal's packages: its own, not the desktops' (it is a relying
// party's server); the binary, its manual page, lintian clean.
func TestPortalPackages(t *testing.T) {
	deb := dist(t, "paraphe-portal_*_amd64.deb")
	mustContain(t, "control", run(t, 0, "dpkg-deb", "--info", deb), "Package: paraphe-portal", "Depends: libc6")
	mustContain(t, "contents", run(t, 0, "dpkg-deb", "--contents", deb), "./usr/bin/paraphe-portal\n",
		"./usr/share/man/man1/paraphe-portal.1.gz\n", "./usr/share/doc/paraphe-portal/copyright\n")
	out := run(t, 0, "lintian", "--display-info", "--fail-on", "error,warning,info", deb)
	for _, l := range strings.Split(out, "\n") {
		if regexp.MustCompile(`^[EWIXP]: `).MatchString(l) {
			t.Errorf("lintian: %s", l)
		}
	}
	if files := run(t, 0, "dpkg-deb", "--contents", dist(t, "paraphe_*_amd64.deb")); strings.Contains(files, "paraphe-portal") {
		t.Error("the desktops' package carries the portal")
	}
	rpm := dist(t, "paraphe-portal-*.x86_64.rpm")
	mustContain(t, "rpm files", run(t, 0, "rpm", "-qpl", rpm), "/usr/bin/paraphe-portal\n", "/usr/share/man/man1/paraphe-portal.1.gz\n")
}

// Acceptance 3: the Windows binary is a PE for amd64.
// paraphe.exe is the desktop application (GUI subsystem: no console window
// beside it); paraphe.com the same program as a console one, for the
// command line.
func TestWindowsBinary(t *testing.T) {
	for name, subsystem := range map[string]uint16{"paraphe.exe": pe.IMAGE_SUBSYSTEM_WINDOWS_GUI, "paraphe.com": pe.IMAGE_SUBSYSTEM_WINDOWS_CUI} {
		exe := dist(t, "windows/"+name)
		mustContain(t, "file", run(t, 0, "file", exe), "PE32+ executable", "x86-64", "MS Windows")
		f, err := pe.Open(exe)
		if err != nil {
			t.Fatal(err)
		}
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || !ok || oh.Subsystem != subsystem {
			t.Fatalf("%s: machine %#x, optional header %T", name, f.Machine, f.OptionalHeader)
		}
		f.Close()
		verifySignature(t, exe)
	}
}

// verifySignature checks an Authenticode signature against the test
// certificate make package-test signed with, and that a changed byte
// breaks it.
func verifySignature(t *testing.T, file string) {
	t.Helper()
	ca := os.Getenv("SIGN_CA")
	if ca == "" {
		t.Fatal("SIGN_CA must name the certificate the packages were signed with (make package-test sets it)")
	}
	mustContain(t, "osslsigncode verify", run(t, 0, "osslsigncode", "verify", "-in", file, "-CAfile", ca), "Signature verification: ok")
	data, _ := os.ReadFile(file)
	data[len(data)/3] ^= 0xff
	tampered := filepath.Join(t.TempDir(), "tampered"+filepath.Ext(file))
	os.WriteFile(tampered, data, 0o644)
	cmd := exec.Command("osslsigncode", "verify", "-in", tampered, "-CAfile", ca)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("a changed %s still verifies:\n%s", filepath.Base(file), out)
	}
}

// msiTable returns a table of the MSI as rows of columns (msiinfo export
// prints three header lines: names, types, keys). msiinfo writes a table's
// binary streams (icons) into the current folder: a temporary one.
func msiTable(t *testing.T, msi, table string) [][]string {
	t.Helper()
	abs, _ := filepath.Abs(msi)
	out := runIn(t, t.TempDir(), 0, "msiinfo", "export", abs, table)
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(out, "\r\n", "\n"), "\n"), "\n")
	var rows [][]string
	for _, l := range lines[3:] {
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows
}

func msiRow(t *testing.T, msi, table, key string) []string {
	t.Helper()
	for _, r := range msiTable(t, msi, table) {
		if r[0] == key {
			return r
		}
	}
	t.Fatalf("MSI table %s has no row %s", table, key)
	return nil
}

var policyProperties = []string{"CA_URL", "CA_FINGERPRINT", "PROXY", "PKCS11_MODULE", "KEY_STORES", "PIN_POLICY", "BRIDGE_PORT", "WEB_ORIGINS"}

// Acceptance 2: what the MSI's tables say, and its signature.
func TestMSI(t *testing.T) {
	msi := dist(t, "paraphe-*-x64.msi")
	wxs, _ := os.ReadFile("windows/paraphe.wxs")
	upgradeCode := regexp.MustCompile(`UpgradeCode="([^"]+)"`).FindSubmatch(wxs)[1]

	props := map[string]string{}
	for _, r := range msiTable(t, msi, "Property") {
		props[r[0]] = r[1]
	}
	if props["ALLUSERS"] != "1" {
		t.Errorf("ALLUSERS=%q: not per machine", props["ALLUSERS"])
	}
	if !strings.EqualFold(props["UpgradeCode"], "{"+string(upgradeCode)+"}") {
		t.Errorf("UpgradeCode %s, want the fixed %s", props["UpgradeCode"], upgradeCode)
	}
	if !regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,5}$`).MatchString(props["ProductVersion"]) {
		t.Errorf("ProductVersion %q is not numeric x.y.z", props["ProductVersion"])
	}
	secure := strings.Split(props["SecureCustomProperties"], ";")
	for _, p := range append([]string{"WIX_UPGRADE_DETECTED", "BRIDGE_AT_LOGIN"}, policyProperties...) {
		if !contains(secure, p) {
			t.Errorf("SecureCustomProperties lacks %s: %v", p, secure)
		}
	}
	mustContain(t, "summary", run(t, 0, "msiinfo", "suminfo", msi), "Template: x64;1033")

	// A newer MSI removes an older one (and refuses to go back).
	var upgrades []string
	for _, r := range msiTable(t, msi, "Upgrade") {
		if strings.EqualFold(r[0], "{"+string(upgradeCode)+"}") {
			upgrades = append(upgrades, r[len(r)-1])
		}
	}
	if !contains(upgrades, "WIX_UPGRADE_DETECTED") || !contains(upgrades, "WIX_DOWNGRADE_DETECTED") {
		t.Errorf("Upgrade table: %v", upgrades)
	}
	msiRow(t, msi, "InstallExecuteSequence", "RemoveExistingProducts")

	// Without administrator rights the install stops at once, saying why.
	cond := msiRow(t, msi, "LaunchCondition", "Privileged")
	mustContain(t, "launch condition", cond[1], "administrator rights", "ask your IT department", "service informatique", "reparto IT")

	// The policy is written by the installed paraphe.exe, as the system
	// account, after the files are in place, and not on removal.
	ca := msiRow(t, msi, "CustomAction", "WritePolicy")
	const exeFromFile, deferred, noImpersonate = 0x12, 0x400, 0x800
	var typ int
	if _, err := fmt.Sscan(ca[1], &typ); err != nil || typ&0x3f != exeFromFile || typ&deferred == 0 || typ&noImpersonate == 0 {
		t.Errorf("WritePolicy type %s: want an executable from an installed file, deferred, not impersonated", ca[1])
	}
	if ca[2] != "ParapheExe" {
		t.Errorf("WritePolicy runs %s", ca[2])
	}
	for _, p := range policyProperties {
		mustContain(t, "WritePolicy's command", ca[3], `"[`+p+`]"`)
	}
	seq := msiTable(t, msi, "InstallExecuteSequence")
	at := map[string]int{}
	for _, r := range seq {
		n := 0
		fmt.Sscan(r[2], &n)
		at[r[0]] = n
		if r[0] == "WritePolicy" && r[1] != "NOT REMOVE" {
			t.Errorf("WritePolicy runs when %q", r[1])
		}
	}
	if !(at["InstallFiles"] < at["WritePolicy"] && at["WritePolicy"] < at["InstallFinalize"]) {
		t.Errorf("WritePolicy at %d, files at %d, end at %d", at["WritePolicy"], at["InstallFiles"], at["InstallFinalize"])
	}
	if com := msiRow(t, msi, "File", "ParapheCom"); com[2] != "paraphe.com" || com[1] != "ParapheExe" {
		t.Fatalf("the console twin: %q", com)
	}
	file := msiRow(t, msi, "File", "ParapheExe")
	if file[2] != "paraphe.exe" {
		t.Errorf("file %v", file)
	}
	comp := msiRow(t, msi, "Component", "ParapheExe")
	dir := msiRow(t, msi, "Directory", comp[2])
	if dir[1] != "ProgramFiles64Folder" || dir[2] != "Paraphe" {
		t.Errorf("installed into %v", dir)
	}
	sc := msiRow(t, msi, "Shortcut", "StartMenuShortcut")
	if sc[1] != "ProgramMenuFolder" || sc[2] != "Paraphe" || sc[8] != "paraphe.ico" {
		t.Errorf("shortcut %v", sc)
	}
	msiRow(t, msi, "Icon", "paraphe.ico")

	checkBridgeAtLogin(t, msi)
	verifySignature(t, msi)
}

// checkBridgeAtLogin: the bridge at every user's login, only with
// BRIDGE_AT_LOGIN=1: the machine's Run key, in a component of its own with
// that condition.
func checkBridgeAtLogin(t *testing.T, msi string) {
	t.Helper()
	bridge := msiRow(t, msi, "Component", "BridgeAtLogin")
	if bridge[4] != `BRIDGE_AT_LOGIN = "1"` {
		t.Errorf("the Run key's component is installed when %q", bridge[4])
	}
	var runKey []string
	for _, r := range msiTable(t, msi, "Registry") {
		if r[len(r)-1] == "BridgeAtLogin" {
			runKey = r
		}
	}
	if runKey == nil || runKey[1] != "2" || runKey[2] != `Software\Microsoft\Windows\CurrentVersion\Run` ||
		runKey[4] != `"[INSTALLDIR]paraphe.exe" bridge --desktop` || runKey[0] != bridge[5] {
		t.Errorf("the Run key: %q (HKLM is root 2)", runKey)
	}
	if fc := msiTable(t, msi, "FeatureComponents"); !slices.ContainsFunc(fc, func(r []string) bool { return r[1] == "BridgeAtLogin" }) {
		t.Errorf("no feature installs the Run key: %v", fc)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The command the MSI's custom action runs, with its properties put in
// the way Windows Installer formats them (an unset property is empty) and
// split the way Windows splits a command line, run by the Linux build
// against a real CA: "msiexec /i paraphe.msi /qn CA_URL=… PROXY=…" is a
// complete deployment.
func TestMSIPolicyCommand(t *testing.T) {
	msi := dist(t, "paraphe-*-x64.msi")
	target := msiRow(t, msi, "CustomAction", "WritePolicy")[3]
	bin, _ := filepath.Abs("../bin")
	srv := testenv.StartCAProcess(t, filepath.Join(bin, "paraphe-ca"))
	want, err := config.ReadPolicy(srv.Policy)
	if err != nil {
		t.Fatal(err)
	}
	var programData string // %ProgramData%, where the policy and the install log go
	install := func(props map[string]string) (string, int) {
		programData = filepath.Join(t.TempDir(), "ProgramData") + string(filepath.Separator)
		std := map[string]string{"CommonAppDataFolder": programData}
		cmdline := regexp.MustCompile(`\[([A-Za-z0-9_]+)\]`).ReplaceAllStringFunc(target, func(m string) string {
			name := m[1 : len(m)-1]
			if v, ok := std[name]; ok {
				return v
			}
			return props[name]
		})
		path := filepath.Join(programData, "Paraphe", "policy.json")
		cmd := exec.Command(filepath.Join(bin, "paraphe"), splitWindows(cmdline)...)
		cmd.Env = append(os.Environ(), "PARAPHE_POLICY="+path, "PARAPHE_LANG=en")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		t.Logf("%v → %d\n%s", props, code, out)
		return path, code
	}
	path, code := install(map[string]string{"CA_URL": srv.URL, "PROXY": "none"})
	p, err := config.ReadPolicy(path)
	if code != 0 || err != nil {
		t.Fatalf("CA_URL and PROXY: exit %d, %v", code, err)
	}
	if p.CA.URL != srv.URL || p.CA.Anchors[0] != want.CA.Anchors[0] || p.Proxy != "none" {
		t.Fatalf("policy written %+v", p)
	}
	path, code = install(map[string]string{"CA_URL": "https://ca.example.invalid", "CA_FINGERPRINT": want.CA.Anchors[0],
		"PKCS11_MODULE": `C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`, "KEY_STORES": "pkcs11",
		"PIN_POLICY": "token:min_length=6,max_length=8", "BRIDGE_PORT": "31000", "WEB_ORIGINS": "https://marches.example.fr,https://portal.example:8443"})
	if p, err := config.ReadPolicy(path); code != 0 || err != nil || p.PKCS11.Module != `C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll` ||
		p.KeyStores[0] != "pkcs11" || p.PIN.Token.MinLength != 6 || p.BridgePort != 31000 ||
		!slices.Equal(p.WebOrigins, []string{"https://marches.example.fr", "https://portal.example:8443"}) {
		t.Fatalf("every property: exit %d, %v, %+v", code, err, p)
	}
	// No property: an install without a policy (or keeping one deployed otherwise).
	if path, code := install(nil); code != 0 {
		t.Fatalf("no properties: exit %d", code)
	} else if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a policy was written without properties")
	}
	// A CA that cannot be reached, without its fingerprint: the action
	// fails, Windows Installer rolls the installation back, and the log
	// beside the policy says why.
	if _, code := install(map[string]string{"CA_URL": "https://127.0.0.1:1", "PROXY": "none"}); code == 0 {
		t.Fatal("an unreachable CA without fingerprint did not fail the action")
	}
	// (On Linux "Paraphe\install.log" is one file name.)
	log, err := os.ReadFile(programData + `Paraphe\install.log`)
	if err != nil || !strings.Contains(string(log), "admin policy write") || !strings.Contains(string(log), "cannot be reached") {
		t.Fatalf("install log: %v\n%s", err, log)
	}
}

// splitWindows splits a command line as CommandLineToArgvW does for the
// simple quoting the custom action uses (no backslash before a quote).
func splitWindows(s string) []string {
	var args []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				args = append(args, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		args = append(args, cur.String())
	}
	return args
}

// Acceptance 1: the .deb on this machine, as IT would install it.
func TestDebInstall(t *testing.T) {
	deb := dist(t, "paraphe_*_amd64.deb")
	testenv.NeedRoot(t, "installing the .deb")
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "paraphe").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatal("paraphe is already installed on this machine: the test would replace it (dpkg --purge paraphe first)")
	}
	purge := func() { exec.Command("dpkg", "--purge", "paraphe").Run() }
	t.Cleanup(purge)

	// Without root, dpkg stops before touching anything.
	cmd := exec.Command("dpkg", "-i", deb)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "requires superuser privilege") {
		t.Fatalf("dpkg -i as nobody: %v\n%s", err, out)
	}
	if _, err := os.Stat("/usr/bin/paraphe"); err == nil {
		t.Fatal("a refused install left /usr/bin/paraphe")
	}

	run(t, 0, "dpkg", "-i", deb)
	if out := run(t, 0, "/usr/bin/paraphe", "--version"); !strings.HasPrefix(out, "paraphe ") {
		t.Fatalf("--version: %s", out)
	}
	st, err := os.Stat("/etc/paraphe/policy.json")
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("policy: %v %v", st, err)
	}
	// Unconfigured, and said so with what IT must do.
	out := run(t, 2, "/usr/bin/paraphe", "admin", "check", "--timeout", "3s")
	mustContain(t, "admin check, as installed", out, "it names no certification authority yet", "paraphe admin policy init --ca URL")

	// IT points it at the CA (the CA of the package itself), and the
	// installation checks out.
	srv := testenv.StartCAProcess(t, "/usr/bin/paraphe-ca")
	run(t, 0, "/usr/bin/paraphe", "admin", "policy", "write", "--ca", srv.URL, "--proxy", "none", "--key-stores", "keychain")
	edited, _ := os.ReadFile("/etc/paraphe/policy.json")
	home := t.TempDir()
	check := exec.Command("/usr/bin/paraphe", "admin", "check", "--timeout", "5s")
	check.Env = append(os.Environ(), "PARAPHE_HOME="+home, "PARAPHE_LANG=en")
	if out, err := check.CombinedOutput(); err != nil || !strings.Contains(string(out), "is installed") || !strings.Contains(string(out), "verified against the CA's root") {
		t.Fatalf("admin check with the policy IT wrote: %v\n%s", err, out)
	}

	// An upgrade keeps what IT wrote, without asking.
	newer := rebuildWithVersion(t, deb, "9")
	run(t, 0, "dpkg", "-i", newer)
	if now, _ := os.ReadFile("/etc/paraphe/policy.json"); !bytes.Equal(now, edited) {
		t.Fatalf("the upgrade replaced the policy:\n%s", now)
	}
	if m, _ := filepath.Glob("/etc/paraphe/*.dpkg-*"); len(m) > 0 {
		t.Fatalf("the upgrade left %v", m)
	}

	// Removing keeps the policy and nothing else; purging takes it too.
	run(t, 0, "dpkg", "-r", "paraphe")
	files := strings.Fields(run(t, 0, "dpkg-deb", "--contents", deb))
	for _, f := range files {
		if p := strings.TrimPrefix(f, "."); strings.HasPrefix(f, "./") && !strings.HasSuffix(f, "/") && p != "/etc/paraphe/policy.json" {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("dpkg -r left %s", p)
			}
		}
	}
	if now, _ := os.ReadFile("/etc/paraphe/policy.json"); !bytes.Equal(now, edited) {
		t.Fatal("dpkg -r did not keep the policy IT wrote")
	}
	mustContain(t, "status after remove", run(t, 0, "dpkg-query", "-W", "-f=${Status}", "paraphe"), "config-files")
	run(t, 0, "dpkg", "--purge", "paraphe")
	if _, err := os.Stat("/etc/paraphe"); !os.IsNotExist(err) {
		t.Fatalf("purge left /etc/paraphe: %v", err)
	}

	// Preseeding: a policy put in place before the package is kept when
	// dpkg is told to keep existing configuration files.
	os.MkdirAll("/etc/paraphe", 0o755)
	os.WriteFile("/etc/paraphe/policy.json", edited, 0o644)
	run(t, 0, "dpkg", "-i", "--force-confold", deb)
	if now, _ := os.ReadFile("/etc/paraphe/policy.json"); !bytes.Equal(now, edited) {
		t.Fatal("--force-confold did not keep the preseeded policy")
	}
	purge()
}

// rebuildWithVersion repacks the .deb with its Debian revision replaced,
// a newer version of the same package.
func rebuildWithVersion(t *testing.T, deb, revision string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pkg")
	run(t, 0, "dpkg-deb", "-R", deb, dir)
	control := filepath.Join(dir, "DEBIAN", "control")
	data, _ := os.ReadFile(control)
	data = regexp.MustCompile(`(?m)^(Version: .*)-1$`).ReplaceAll(data, []byte("${1}-"+revision))
	os.WriteFile(control, data, 0o644)
	out := filepath.Join(t.TempDir(), "newer.deb")
	run(t, 0, "dpkg-deb", "--root-owner-group", "-b", dir, out)
	return out
}
