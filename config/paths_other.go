//go:build !linux && !windows && !darwin

package config

// The machine policy on Linux and other Unix systems: written by the
// package or by IT, readable by everyone, writable by root only.
func systemPolicyPath() string { return "/etc/paraphe/policy.json" }

// The PKCS#11 module used when the policy names none: OpenSC.
func defaultPKCS11Module() string { return "/usr/local/lib/opensc-pkcs11.so" }
