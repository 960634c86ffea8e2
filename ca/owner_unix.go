//go:build unix

package ca

import (
	"os"
	"path/filepath"
	"syscall"
)

// keepOwner gives path the owner of the CA folder. The root's commands may
// run as another user than the server (one who can read the root folder):
// what they write into the CA folder must stay the server's to read.
func keepOwner(path string) error {
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid()) {
		return nil
	}
	return os.Lchown(path, int(st.Uid), int(st.Gid))
}
