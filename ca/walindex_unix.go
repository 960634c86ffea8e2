//go:build unix

package ca

import (
	"bytes"
	"os"
	"syscall"
)

// walHeaderSize is the size of one copy of the WAL-index header.
const walHeaderSize = 48

// walIndex is an SQLite database's -shm file, open to read its header.
type walIndex struct{ f *os.File }

func openWALIndex(path string) (walIndex, error) {
	f, err := os.Open(path)
	return walIndex{f}, err
}

func (w walIndex) Close() error { return w.f.Close() }

// header is the WAL-index header, when it can be read: both copies the
// same (a writer writes the second, then the first), initialised (isInit,
// byte 12), and the file still the database's (linked).
func (w walIndex) header() (h [walHeaderSize]byte, ok bool) {
	var b [2 * walHeaderSize]byte
	if _, err := w.f.ReadAt(b[:], 0); err != nil {
		return h, false
	}
	if !bytes.Equal(b[:walHeaderSize], b[walHeaderSize:]) || b[12] != 1 {
		return h, false
	}
	fi, err := w.f.Stat()
	if err != nil {
		return h, false
	}
	if st, isUnix := fi.Sys().(*syscall.Stat_t); !isUnix || st.Nlink == 0 {
		return h, false
	}
	copy(h[:], b[:walHeaderSize])
	return h, true
}
