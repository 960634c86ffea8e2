package config

// The machine policy on Linux and other Unix systems: written by the
// package or by IT, readable by everyone, writable by root only.
func systemPolicyPath() string { return "/etc/paraphe/policy.json" }
