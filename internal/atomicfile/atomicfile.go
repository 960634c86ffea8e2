// Package atomicfile writes files so that readers, and a crash, see either
// the old content or the new one, never half of it.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
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
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	return renameOver(f, path, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// Create writes a new file at path with write: into a temporary file
// beside it, synced, that takes path's name only once complete, so that
// nobody ever sees part of it; on any error nothing is left behind. It
// never replaces a file: one at path, there before or come meanwhile,
// fails it with an error for which errors.Is(err, fs.ErrExist). The file
// gets perm less the process's umask, as os.OpenFile and cp give it.
func Create(path string, perm os.FileMode, write func(io.Writer) error) error {
	exists := &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	if _, err := os.Lstat(path); err == nil {
		return exists
	}
	f, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a link, the temporary name only
	err = write(f)
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

// Replace writes path with write as Create does (a temporary file beside
// it, synced, that takes path's name only once complete; nothing left
// behind on an error) but replaces the file at path, if any: for a path
// the user chose in a save dialog, which asked before.
func Replace(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := createTemp(path, perm)
	if err != nil {
		return err
	}
	return renameOver(f, path, write)
}

// renameOver writes the temporary file f with write, syncs it, renames
// it over path and syncs the folder; f is removed on any error.
func renameOver(f *os.File, path string, write func(io.Writer) error) error {
	tmp := f.Name()
	err := write(f)
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

// CopyPerm is the permission a copy of a document (a signed PDF, a
// CAdES envelope, the content taken out of one) takes from the file it
// was made from: its read and write bits, so that those who could read
// the document can read its copy; execute bits are dropped, a document
// is no program. Create then subtracts the umask.
func CopyPerm(from fs.FileInfo) os.FileMode {
	return from.Mode().Perm() & 0o666
}

// createTemp creates a hidden file beside path, named after it, with
// perm: unlike os.CreateTemp (always 0600, then a chmod that ignores the
// umask), the system applies the umask as it does to any new file.
func createTemp(path string, perm os.FileMode) (*os.File, error) {
	prefix := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".")
	for try := 0; ; try++ {
		f, err := os.OpenFile(prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+".part", os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
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
