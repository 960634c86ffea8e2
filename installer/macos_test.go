package installer

import (
	"encoding/xml"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/paraphe/paraphe/assets"
	"github.com/paraphe/paraphe/internal/testenv"
)

// The macOS files are built on a macOS runner (installer/README.md); here
// they are checked for what the plan relies on.
func TestMacOSInfoPlist(t *testing.T) {
	values, arrays := plistValues(t, "macos/Info.plist")
	for key, want := range map[string]string{
		"CFBundleExecutable":         "string:paraphe", // cmd/paraphe
		"CFBundleIdentifier":         "string:org.paraphe.Paraphe",
		"CFBundlePackageType":        "string:APPL",
		"CFBundleVersion":            "string:@VERSION@",
		"CFBundleShortVersionString": "string:@SHORT_VERSION@",
		"CFBundleIconFile":           "string:paraphe.icns",
		"NSHighResolutionCapable":    "true:",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	if langs := arrays["CFBundleLocalizations"]; !slices.Equal(langs, assets.Languages) {
		t.Errorf("CFBundleLocalizations %v, the catalogue has %v", langs, assets.Languages)
	}
}

// The LaunchAgent that starts the bridge at login runs the bundle's
// executable (Info.plist's, in /Applications) in its desktop mode, in
// graphical sessions only, without a restart loop.
func TestMacOSLaunchAgent(t *testing.T) {
	values, arrays := plistValues(t, "macos/org.paraphe.bridge.plist")
	info, _ := plistValues(t, "macos/Info.plist")
	exe := "/Applications/Paraphe.app/Contents/MacOS/" + strings.TrimPrefix(info["CFBundleExecutable"], "string:")
	if args := arrays["ProgramArguments"]; !slices.Equal(args, []string{exe, "bridge", "--desktop"}) {
		t.Errorf("ProgramArguments %q", args)
	}
	for key, want := range map[string]string{
		"Label":                  "string:org.paraphe.bridge",
		"LimitLoadToSessionType": "string:Aqua",
		"RunAtLoad":              "true:",
		"KeepAlive":              "false:",
	} {
		if values[key] != want {
			t.Errorf("%s = %q, want %q", key, values[key], want)
		}
	}
	if testing.Short() {
		return
	}
	// plutil is macOS's; here xmllint checks it against Apple's DTD shape
	// at least as well-formed XML with a DOCTYPE.
	testenv.Require(t, "xmllint")
	if out, err := exec.Command("xmllint", "--noout", "macos/org.paraphe.bridge.plist").CombinedOutput(); err != nil {
		t.Fatalf("xmllint: %v\n%s", err, out)
	}
}

// plistValues reads a property list's top dictionary: each key's value
// as "type:text", and the arrays of strings.
func plistValues(t *testing.T, file string) (map[string]string, map[string][]string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var plist struct {
		Dict struct {
			Items []struct {
				XMLName xml.Name
				Text    string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(data, &plist); err != nil {
		t.Fatal(err)
	}
	values, arrays := map[string]string{}, map[string][]string{}
	items := plist.Dict.Items
	if len(items)%2 != 0 {
		t.Fatalf("%s: a key without a value", file)
	}
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("%s: item %d is a %s, not a key", file, i, items[i].XMLName.Local)
		}
		v := items[i+1]
		values[items[i].Text] = v.XMLName.Local + ":" + strings.TrimSpace(v.Text)
		if v.XMLName.Local == "array" {
			arrays[items[i].Text] = v.Strings
		}
	}
	return values, arrays
}

func TestMacOSDistribution(t *testing.T) {
	data, err := os.ReadFile("macos/distribution.xml")
	if err != nil {
		t.Fatal(err)
	}
	var dist struct {
		Domains struct {
			Anywhere    string `xml:"enable_anywhere,attr"`
			UserHome    string `xml:"enable_currentUserHome,attr"`
			LocalSystem string `xml:"enable_localSystem,attr"`
		} `xml:"domains"`
		PkgRefs []struct {
			ID      string `xml:"id,attr"`
			Version string `xml:"version,attr"`
		} `xml:"pkg-ref"`
	}
	if err := xml.Unmarshal(data, &dist); err != nil {
		t.Fatal(err)
	}
	// Per machine only: an administrator installs it, never a user alone.
	if d := dist.Domains; d.LocalSystem != "true" || d.UserHome != "false" || d.Anywhere != "false" {
		t.Errorf("domains %+v", d)
	}
	if len(dist.PkgRefs) == 0 || dist.PkgRefs[len(dist.PkgRefs)-1].Version != "@VERSION@" {
		t.Errorf("pkg-refs %+v", dist.PkgRefs)
	}
}
