package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/paraphe/paraphe/internal/atomicfile"
)

// Settings are the user's own choices, kept in Home()/settings.json.
type Settings struct {
	Language    string `json:"language,omitempty"`     // "fr", "en", "it"; empty: from the OS
	DefaultCert string `json:"default_cert,omitempty"` // key ID of the default certificate
	// Proxy and PKCS11Module apply only where the policy lets users set
	// them (Policy.UserMay).
	Proxy        string `json:"proxy,omitempty"`
	PKCS11Module string `json:"pkcs11_module,omitempty"`
	// Signature is how documents are signed unless chosen otherwise.
	Signature SignatureDefaults `json:"signature,omitzero"`
	// ExchangeLogin is the user code or e-mail address the user signs in
	// to the firm's exchange with, offered again (never a password).
	ExchangeLogin string `json:"exchange_login,omitempty"`
}

// SignatureDefaults are the user's usual signing choices.
type SignatureDefaults struct {
	Visible  bool   `json:"visible,omitempty"`
	Corner   string `json:"corner,omitempty"` // "bottom-right" (default), "bottom-left", "top-right", "top-left"
	Level    string `json:"level,omitempty"`  // "B-B", "B-T" (default), "B-LT"
	Reason   string `json:"reason,omitempty"`
	Location string `json:"location,omitempty"`
}

func settingsPath() (string, error) {
	h, err := Home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "settings.json"), nil
}

// LoadSettings reads the user settings; a missing file gives the zero value.
func LoadSettings() (Settings, error) {
	var s Settings
	path, err := settingsPath()
	if err != nil {
		return s, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("config: settings %s: %w", path, err)
	}
	return s, nil
}

// SaveSettings writes the user settings atomically.
func SaveSettings(s Settings) error {
	if _, err := EnsureHome(); err != nil {
		return err
	}
	path, err := settingsPath()
	if err != nil {
		return err
	}
	data, _ := json.MarshalIndent(s, "", "  ")
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}
