package cli

import (
	"bytes"
	"errors"
	"os"
	"strings"
)

// The servers' token PINs (paraphe-ca's, paraphe-exchange's) come from a
// file or the environment, never from the command line, which every user
// of the machine can read.

// PINOnCommandLine reports whether args give a PIN as a flag (--pin,
// --pin=…, --token-pin, --user-pin): a command refuses it before its flags
// are parsed, so that it says so plainly.
func PINOnCommandLine(args []string) bool {
	for _, arg := range args {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if strings.HasPrefix(arg, "-") && (name == "pin" || name == "token-pin" || name == "user-pin") {
			return true
		}
	}
	return false
}

// Errors of ReadPIN.
var (
	// ErrNoPIN: no PIN file was given and the variable is unset or empty.
	ErrNoPIN = errors.New("no PIN given")
	// ErrEmptyPIN: the PIN file's first line is empty.
	ErrEmptyPIN = errors.New("the PIN file's first line is empty")
)

// ReadPIN reads a PIN from file, its first line (its end of line not part
// of it), or, when file is empty, from the environment variable env.
func ReadPIN(file, env string) ([]byte, error) {
	if file == "" {
		pin := os.Getenv(env)
		if pin == "" {
			return nil, ErrNoPIN
		}
		return []byte(pin), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pin, _, _ := bytes.Cut(data, []byte("\n"))
	if pin = bytes.TrimSuffix(pin, []byte("\r")); len(pin) == 0 {
		return nil, ErrEmptyPIN
	}
	return pin, nil
}
