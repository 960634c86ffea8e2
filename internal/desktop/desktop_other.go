//go:build android || ios || !(unix || windows)

package desktop

import "context"

// No desktop dialogs here (mobile systems, WebAssembly): the caller's own.

func openFiles(context.Context, Dialog, bool) ([]string, error) { return nil, ErrUnavailable }

func saveFile(context.Context, Dialog, string) (string, error) { return "", ErrUnavailable }

func showInFolder(context.Context, string, uintptr) error { return ErrNoFileManager }
