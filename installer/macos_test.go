package installer

import (
	"encoding/xml"
	"os"
	"slices"
	"testing"

	"github.com/paraphe/paraphe/assets"
)

// The macOS files are built on a macOS runner (installer/README.md); here
// they are checked for what the plan relies on.
func TestMacOSInfoPlist(t *testing.T) {
	data, err := os.ReadFile("macos/Info.plist")
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
	values := map[string]string{}
	var langs []string
	items := plist.Dict.Items
	for i := 0; i+1 < len(items); i += 2 {
		if items[i].XMLName.Local != "key" {
			t.Fatalf("item %d is a %s, not a key", i, items[i].XMLName.Local)
		}
		v := items[i+1]
		values[items[i].Text] = v.XMLName.Local + ":" + v.Text
		if items[i].Text == "CFBundleLocalizations" {
			langs = v.Strings
		}
	}
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
	if !slices.Equal(langs, assets.Languages) {
		t.Errorf("CFBundleLocalizations %v, the catalogue has %v", langs, assets.Languages)
	}
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
