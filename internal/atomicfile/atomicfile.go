// Package atomicfile writes files so that readers, and a crash, see either
// the old content or the new one, never half of it.
package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
)

// Write writes data to a temporary file beside path, syncs it, renames it
// over path and syncs the folder, so that the rename itself survives a
// power cut (where the system can: Windows cannot sync a folder). The
// temporary file is removed on any error.
func Write(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = dir.Sync()
	if cerr := dir.Close(); err == nil {
		err = cerr
	}
	return err
}
