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

// The PKCS#11 module used when the policy names none: OpenSC's installer
// puts it on the system path.
func defaultPKCS11Module() string { return "opensc-pkcs11.dll" }
