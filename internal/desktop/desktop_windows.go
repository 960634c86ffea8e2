package desktop

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows the common dialogs of comdlg32.dll (GetOpenFileNameW and
// GetSaveFileNameW with OFN_EXPLORER and no hook: since Vista they show the
// same Explorer dialog as IFileOpenDialog), called without cgo, as mkcert
// reaches crypt32.dll. Explorer shows a file with /select. The dialogs
// block their thread until the user answers: ctx cannot close them.

var (
	comdlg32             = windows.NewLazySystemDLL("comdlg32.dll")
	getOpenFileName      = comdlg32.NewProc("GetOpenFileNameW")
	getSaveFileName      = comdlg32.NewProc("GetSaveFileNameW")
	commDlgExtendedError = comdlg32.NewProc("CommDlgExtendedError")
)

// OPENFILENAMEW's flags.
const (
	ofnOverwritePrompt  = 0x00000002
	ofnHideReadOnly     = 0x00000004
	ofnNoChangeDir      = 0x00000008
	ofnAllowMultiSelect = 0x00000200
	ofnPathMustExist    = 0x00000800
	ofnFileMustExist    = 0x00001000
	ofnExplorer         = 0x00080000
)

// openFileName is OPENFILENAMEW (commdlg.h); Go lays it out as C does.
type openFileName struct {
	structSize    uint32
	owner         uintptr
	instance      uintptr
	filter        *uint16
	customFilter  *uint16
	maxCustFilter uint32
	filterIndex   uint32
	file          *uint16
	maxFile       uint32
	fileTitle     *uint16
	maxFileTitle  uint32
	initialDir    *uint16
	title         *uint16
	flags         uint32
	fileOffset    uint16
	fileExtension uint16
	defExt        *uint16
	custData      uintptr
	fnHook        uintptr
	templateName  *uint16
	reserved      uintptr
	reserved2     uint32
	flagsEx       uint32
}

// bufferChars holds a long selection: the folder, then each name.
const bufferChars = 1 << 16

// filterString is "Name\0*.pdf;*.PDF\0…\0\0".
func filterString(fs []Filter) *uint16 {
	if len(fs) == 0 {
		return nil
	}
	var b strings.Builder
	for _, f := range fs {
		var pats []string
		for _, ext := range f.Extensions {
			pats = append(pats, "*."+ext)
		}
		b.WriteString(f.Name + "\x00" + strings.Join(pats, ";") + "\x00")
	}
	u, _ := windows.UTF16FromString(b.String()) // adds the last NUL
	return &u[0]
}

func utf16OrNil(s string) *uint16 {
	if s == "" {
		return nil
	}
	p, _ := windows.UTF16PtrFromString(s)
	return p
}

// run calls a dialog on a thread of its own, with COM initialised as the
// Explorer dialog wants, and returns the buffer, or nil when cancelled.
func run(proc *windows.LazyProc, ofn *openFileName, buf []uint16) ([]uint16, error) {
	if err := proc.Find(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := windows.CoInitializeEx(0, windows.COINIT_APARTMENTTHREADED); err == nil {
		defer windows.CoUninitialize()
	}
	ofn.structSize = uint32(unsafe.Sizeof(*ofn))
	ofn.file, ofn.maxFile = &buf[0], uint32(len(buf))
	if ok, _, _ := proc.Call(uintptr(unsafe.Pointer(ofn))); ok != 0 {
		return buf, nil
	}
	if code, _, _ := commDlgExtendedError.Call(); code != 0 {
		return nil, fmt.Errorf("desktop: the file dialog failed (CommDlgExtendedError 0x%x)", code)
	}
	return nil, nil // cancelled
}

func (d Dialog) openFileName() *openFileName {
	return &openFileName{
		owner:      d.Parent,
		filter:     filterString(d.Filters),
		initialDir: utf16OrNil(d.Folder),
		title:      utf16OrNil(d.Title),
	}
}

func openFiles(_ context.Context, d Dialog, multiple bool) ([]string, error) {
	ofn := d.openFileName()
	ofn.flags = ofnExplorer | ofnFileMustExist | ofnPathMustExist | ofnNoChangeDir | ofnHideReadOnly
	if multiple {
		ofn.flags |= ofnAllowMultiSelect
	}
	buf, err := run(getOpenFileName, ofn, make([]uint16, bufferChars))
	if err != nil || buf == nil {
		return nil, err
	}
	// One file: its path. Several: the folder, then each name; each
	// NUL-terminated, the whole ending with an empty string.
	var parts []string
	for start, i := 0, 0; i < len(buf); i++ {
		if buf[i] == 0 {
			if i == start {
				break
			}
			parts = append(parts, windows.UTF16ToString(buf[start:i]))
			start = i + 1
		}
	}
	if len(parts) <= 1 {
		return parts, nil
	}
	paths := make([]string, 0, len(parts)-1)
	for _, name := range parts[1:] {
		paths = append(paths, filepath.Join(parts[0], name))
	}
	return paths, nil
}

func saveFile(_ context.Context, d Dialog, name string) (string, error) {
	ofn := d.openFileName()
	ofn.flags = ofnExplorer | ofnOverwritePrompt | ofnPathMustExist | ofnNoChangeDir | ofnHideReadOnly
	if ext := strings.TrimPrefix(filepath.Ext(name), "."); ext != "" {
		ofn.defExt = utf16OrNil(ext)
	}
	buf := make([]uint16, bufferChars)
	initial, _ := windows.UTF16FromString(name)
	copy(buf, initial)
	buf, err := run(getSaveFileName, ofn, buf)
	if err != nil || buf == nil {
		return "", err
	}
	return windows.UTF16ToString(buf), nil
}

func showInFolder(ctx context.Context, path string, _ uintptr) error {
	// explorer wants /select,"path" as it is: Go's quoting of arguments
	// would put the whole in quotes. It exits with 1 even when it shows
	// the folder: only a failure to start it counts.
	cmd := exec.CommandContext(ctx, "explorer.exe")
	cmd.SysProcAttr = &syscall.SysProcAttr{CmdLine: `explorer.exe /select,"` + path + `"`}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: explorer: %v", ErrNoFileManager, err)
	}
	go cmd.Wait()
	return nil
}
