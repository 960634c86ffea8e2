package config

// The machine policy on macOS, written by the installer package.
func systemPolicyPath() string { return "/Library/Application Support/Paraphe/policy.json" }

// The PKCS#11 module used when the policy names none: OpenSC's package.
func defaultPKCS11Module() string { return "/Library/OpenSC/lib/opensc-pkcs11.so" }
