package config

import "runtime"

// The machine policy on Linux and other Unix systems: written by the
// package or by IT, readable by everyone, writable by root only.
func systemPolicyPath() string { return "/etc/paraphe/policy.json" }

// The PKCS#11 module used when the policy names none: OpenSC, which drives
// most smart cards and USB tokens (Debian's opensc-pkcs11 package).
func defaultPKCS11Module() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i386"}[runtime.GOARCH]
	return "/usr/lib/" + arch + "-linux-gnu/opensc-pkcs11.so"
}
