// Package config reads the machine policy (set by IT, read-only for users)
// and the user settings, and finds them where each operating system keeps
// such files. The way out to the network that the policy describes (the
// HTTP client, proxies, PAC files, tunnels) is package netclient's.
//
// Every location can be moved with an environment variable, which is how
// tests and the demo run against temporary folders:
//
//	PARAPHE_POLICY  the machine policy file
//	PARAPHE_HOME    the user folder (settings, key files)
package config
