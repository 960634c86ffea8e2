package config

// The machine policy on macOS, written by the installer package.
func systemPolicyPath() string { return "/Library/Application Support/Paraphe/policy.json" }
