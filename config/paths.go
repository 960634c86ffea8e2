package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// PolicyPath is the machine policy in force: $PARAPHE_POLICY, or the
// operating system's location (systemPolicyPath, one per platform file).
func PolicyPath() string {
	if p := os.Getenv("PARAPHE_POLICY"); p != "" {
		return p
	}
	return systemPolicyPath()
}

// Home is the user's Paraphe folder: $PARAPHE_HOME, or "paraphe" in the
// operating system's per-user configuration folder.
func Home() (string, error) {
	if h := os.Getenv("PARAPHE_HOME"); h != "" {
		return h, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: no user folder (set PARAPHE_HOME): %w", err)
	}
	return filepath.Join(dir, "paraphe"), nil
}

// EnsureHome returns Home, creating it (private to the user) if needed.
func EnsureHome() (string, error) {
	h, err := Home()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(h, 0o700); err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	return h, nil
}

// ErrNoPolicy is returned by LoadPolicy when no policy file exists.
var ErrNoPolicy = errors.New("config: no machine policy installed")

// ErrUnconfigured is returned by LoadPolicy for a policy that names no CA:
// the template a package installs before IT sets ca.url and ca.anchors.
var ErrUnconfigured = errors.New("config: the machine policy does not name a certification authority yet")
