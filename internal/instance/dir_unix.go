//go:build unix

package instance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// defaultDir: $XDG_RUNTIME_DIR/paraphe (the session's own, mode 0700,
// emptied at logout), else TMPDIR/paraphe-UID (macOS's TMPDIR is the
// user's already).
func defaultDir() (string, error) {
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
		return filepath.Join(x, "paraphe"), nil
	}
	return filepath.Join(os.TempDir(), "paraphe-"+strconv.Itoa(os.Getuid())), nil
}

// ownDir makes dir, mode 0700, and refuses one that is not a folder
// (a symbolic link included) of this user that only this user may enter.
func ownDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("instance: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return &UnsafeDirError{Dir: dir, Reason: "not a folder of this user's"}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return &UnsafeDirError{Dir: dir, Reason: "others may enter it (chmod 700 it)"}
	}
	return nil
}

// lockFile takes an exclusive lock on path, without waiting: ErrRunning
// when another process holds it. The system releases it with the process.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("instance: lock %s: %w", path, err)
	}
	return f, nil
}
