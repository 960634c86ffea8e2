package config

import (
	"os"
	"path/filepath"
)

// The machine policy on Windows: %ProgramData%\Paraphe\policy.json, written
// by the MSI at install time.
func systemPolicyPath() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		pd = `C:\ProgramData`
	}
	return filepath.Join(pd, "Paraphe", "policy.json")
}
