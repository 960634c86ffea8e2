// Package config reads the machine policy (set by IT, read-only for users)
// and the user settings, finds them where each operating system keeps such
// files, and builds the one http.Client every Paraphe request goes through,
// so that proxy settings and TLS anchors apply everywhere.
//
// Every location can be moved with an environment variable, which is how
// tests and the demo run against temporary folders:
//
//	PARAPHE_POLICY  the machine policy file
//	PARAPHE_HOME    the user folder (settings, key files)
package config
