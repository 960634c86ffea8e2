package desktop

import "testing"

func TestGlob(t *testing.T) {
	for ext, want := range map[string]string{"pdf": "*.[pP][dD][fF]", "p7m": "*.[pP]7[mM]", "": "*."} {
		if got := glob(ext); got != want {
			t.Errorf("glob(%q) = %q, want %q", ext, got, want)
		}
	}
}
