// Package atomicfile writes files so that readers, and a crash, see either
// the old content or the new one, never half of it.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
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
	return syncDir(path)
}

// Create writes a new file at path with write: into a temporary file
// beside it, synced, that takes path's name only once complete, so that
// nobody ever sees part of it; on any error nothing is left behind. It
// never replaces a file: one at path, there before or come meanwhile,
// fails it with an error for which errors.Is(err, fs.ErrExist).
func Create(path string, perm os.FileMode, write func(io.Writer) error) error {
	exists := &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	if _, err := os.Lstat(path); err == nil {
		return exists
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a link, the temporary name only
	err = f.Chmod(perm)
	if err == nil {
		err = write(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// A hard link takes the name only if nobody has it; file systems
	// without links (FAT) get a check, then a rename.
	switch err := os.Link(tmp, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return exists
	default:
		if _, err := os.Lstat(path); err == nil {
			return exists
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return syncDir(path)
}

// syncDir syncs the folder of path, so that a new name in it survives a
// power cut (where the system can: Windows cannot sync a folder).
func syncDir(path string) error {
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
