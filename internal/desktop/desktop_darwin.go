//go:build !ios

package desktop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// On macOS the standard open and save panels (NSOpenPanel, NSSavePanel)
// are reached through AppleScript's "choose file" and "choose file name",
// run by osascript: no cgo, so the app still cross-compiles. The values
// go in as arguments (argv), never into the script's text. Finder shows a
// file with "open -R".

// openScript's argv: the title, "multiple" or "single", the folder ("":
// Documents), then the extensions to show (none: every file).
const openScript = `on run argv
	set theTitle to item 1 of argv
	set many to (item 2 of argv is "multiple")
	set theFolder to my folderOf(item 3 of argv)
	set exts to {}
	repeat with i from 4 to count of argv
		set end of exts to item i of argv
	end repeat
	activate
	if (count of exts) > 0 then
		set chosen to choose file with prompt theTitle of type exts default location theFolder multiple selections allowed many
	else
		set chosen to choose file with prompt theTitle default location theFolder multiple selections allowed many
	end if
	if class of chosen is not list then set chosen to {chosen}
	set out to ""
	repeat with f in chosen
		set out to out & POSIX path of f & linefeed
	end repeat
	return out
end run

on folderOf(p)
	if p is "" then return path to documents folder
	return POSIX file p as alias
end folderOf`

// saveScript's argv: the title, the name suggested, the folder ("": the
// panel's choice).
const saveScript = `on run argv
	activate
	set theFolder to item 3 of argv
	if theFolder is "" then
		set chosen to choose file name with prompt (item 1 of argv) default name (item 2 of argv)
	else
		set chosen to choose file name with prompt (item 1 of argv) default name (item 2 of argv) default location (POSIX file theFolder as alias)
	end if
	return POSIX path of chosen
end run`

// cancelled is AppleScript's "User canceled." (error -128).
func cancelled(stderr []byte) bool { return bytes.Contains(stderr, []byte("-128")) }

func osascript(ctx context.Context, script string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "osascript", append([]string{"-e", script, "--"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if cancelled(stderr.Bytes()) {
			return "", errCancelled
		}
		var ee *exec.Error
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return "", fmt.Errorf("desktop: osascript: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

var errCancelled = errors.New("desktop: cancelled")

func openFiles(ctx context.Context, d Dialog, multiple bool) ([]string, error) {
	many := "single"
	if multiple {
		many = "multiple"
	}
	args := []string{d.Title, many, d.Folder}
	for _, f := range d.Filters {
		args = append(args, f.Extensions...)
	}
	out, err := osascript(ctx, openScript, args...)
	if errors.Is(err, errCancelled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, line := range strings.Split(out, "\n") {
		if line != "" {
			paths = append(paths, line)
		}
	}
	return paths, nil
}

func saveFile(ctx context.Context, d Dialog, name string) (string, error) {
	out, err := osascript(ctx, saveScript, d.Title, name, d.Folder)
	if errors.Is(err, errCancelled) {
		return "", nil
	}
	return strings.TrimSuffix(out, "\n"), err
}

func showInFolder(ctx context.Context, path string, _ uintptr) error {
	if out, err := exec.CommandContext(ctx, "open", "-R", path).CombinedOutput(); err != nil {
		return fmt.Errorf("%w: open -R: %v: %s", ErrNoFileManager, err, strings.TrimSpace(string(out)))
	}
	return nil
}
