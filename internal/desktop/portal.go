//go:build unix && !darwin && !android

package desktop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// The XDG desktop portal (https://flatpak.github.io/xdg-desktop-portal/):
// a method call returns a Request object at once, and the answer comes
// later as that object's Response signal, once the user has chosen. This
// is written on godbus rather than fyne's github.com/rymdport/portal
// (v0.4.2), which decodes the URIs as query strings (a "+" in a file name
// becomes a space), takes any Response signal on the shared connection
// for its own, and listens only once the call has returned.
const (
	portalName    = "org.freedesktop.portal.Desktop"
	portalPath    = dbus.ObjectPath("/org/freedesktop/portal/desktop")
	fileChooser   = "org.freedesktop.portal.FileChooser"
	openURI       = "org.freedesktop.portal.OpenURI"
	requestIface  = "org.freedesktop.portal.Request"
	responseName  = requestIface + ".Response"
	responseOK    = 0
	responseNoWay = 1 // the user cancelled
	responseEnded = 2 // ended otherwise: the window closed (GTK's Escape), or the backend failed
)

// callTimeout bounds the call that opens a dialog (not the user's choice):
// a portal that does not answer it is taken as none. D-Bus's own default.
const callTimeout = 25 * time.Second

// errCancelled is the user's "Cancel".
var errCancelled = errors.New("desktop: cancelled")

// filter and rule are the portal's a(sa(us)).
type filter struct {
	Name  string
	Rules []rule
}

type rule struct {
	Kind    uint32 // 0: a glob pattern, 1: a MIME type
	Pattern string
}

func portalFilters(fs []Filter) []filter {
	var out []filter
	for _, f := range fs {
		pf := filter{Name: f.Name}
		for _, ext := range f.Extensions {
			pf.Rules = append(pf.Rules, rule{0, glob(ext)})
		}
		out = append(out, pf)
	}
	return out
}

// options are the a{sv} every dialog takes.
func (d Dialog) options() map[string]dbus.Variant {
	o := map[string]dbus.Variant{"modal": dbus.MakeVariant(true)}
	if d.Accept != "" {
		o["accept_label"] = dbus.MakeVariant(d.Accept)
	}
	if fs := portalFilters(d.Filters); len(fs) > 0 {
		o["filters"] = dbus.MakeVariant(fs)
		o["current_filter"] = dbus.MakeVariant(fs[0])
	}
	if d.Folder != "" {
		o["current_folder"] = dbus.MakeVariant(append([]byte(d.Folder), 0))
	}
	return o
}

// parentWindow is the portal's name for the parent: "x11:HEX" (a Wayland
// surface would need an exported handle, which fyne does not give).
func parentWindow(parent uintptr) string {
	if parent == 0 {
		return ""
	}
	return fmt.Sprintf("x11:%x", parent)
}

func openFiles(ctx context.Context, d Dialog, multiple bool) ([]string, error) {
	o := d.options()
	o["multiple"] = dbus.MakeVariant(multiple)
	res, err := request(ctx, fileChooser+".OpenFile", o, parentWindow(d.Parent), d.Title)
	if errors.Is(err, errCancelled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return paths(res)
}

func saveFile(ctx context.Context, d Dialog, name string) (string, error) {
	o := d.options()
	if name != "" {
		o["current_name"] = dbus.MakeVariant(name)
	}
	res, err := request(ctx, fileChooser+".SaveFile", o, parentWindow(d.Parent), d.Title)
	if errors.Is(err, errCancelled) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ps, err := paths(res)
	if err != nil || len(ps) == 0 {
		return "", err
	}
	return ps[0], nil
}

// paths reads the chosen files from a FileChooser response: file:// URIs,
// percent-encoded.
func paths(res map[string]dbus.Variant) ([]string, error) {
	v, ok := res["uris"]
	if !ok {
		return nil, nil
	}
	uris, ok := v.Value().([]string)
	if !ok {
		return nil, fmt.Errorf("desktop: the portal answered %s for uris", v.Signature())
	}
	var out []string
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("desktop: the portal answered %q: %w", s, err)
		}
		if u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") {
			return nil, fmt.Errorf("desktop: the portal answered %q, not a local file", s)
		}
		out = append(out, u.Path)
	}
	return out, nil
}

func showInFolder(ctx context.Context, path string, parent uintptr) error {
	perr := openDirectory(ctx, path, parent)
	if perr == nil || errors.Is(perr, context.Canceled) {
		return perr
	}
	// No portal (or it could not): the system's opener, on the folder.
	oerr := exec.CommandContext(ctx, "xdg-open", filepath.Dir(path)).Run()
	if oerr == nil {
		return nil
	}
	return fmt.Errorf("%w: the portal: %v; xdg-open: %v", ErrNoFileManager, perr, oerr)
}

// openDirectory asks the portal to show the folder holding path (the
// OpenURI portal's OpenDirectory, given the file itself).
func openDirectory(ctx context.Context, path string, parent uintptr) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = request(ctx, openURI+".OpenDirectory", map[string]dbus.Variant{}, parentWindow(parent), dbus.UnixFD(f.Fd()))
	return err
}

// request calls method on the portal with args then the options, and waits
// for the Response of the Request it opens. It returns ErrUnavailable when
// there is no session bus, no portal or no such method there, errCancelled
// when the user cancels, and the response's results.
func request(ctx context.Context, method string, options map[string]dbus.Variant, args ...any) (map[string]dbus.Variant, error) {
	conn, err := sessionBus()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer conn.Close()
	// Listen before calling: the answer may come before the call returns.
	// The Request's path is known from the token (portal ≥ 0.9); an older
	// portal's is the one the call returns.
	token := handleToken()
	options["handle_token"] = dbus.MakeVariant(token)
	sender := strings.ReplaceAll(strings.TrimPrefix(conn.Names()[0], ":"), ".", "_")
	expected := dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + sender + "/" + token)
	signals := make(chan *dbus.Signal, 16)
	conn.Signal(signals)
	if err := conn.AddMatchSignal(dbus.WithMatchInterface(requestIface), dbus.WithMatchMember("Response")); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var handle dbus.ObjectPath
	call := conn.Object(portalName, portalPath).CallWithContext(callCtx, method, 0, append(args, options)...)
	if call.Err != nil {
		return nil, callError(method, call.Err)
	}
	if err := call.Store(&handle); err != nil {
		return nil, fmt.Errorf("desktop: %s: %w", method, err)
	}
	for {
		select {
		case s := <-signals:
			if s.Name != responseName || (s.Path != handle && s.Path != expected) {
				continue
			}
			return response(method, s)
		case <-ctx.Done():
			conn.Object(portalName, handle).Call(requestIface+".Close", 0)
			return nil, ctx.Err()
		}
	}
}

// response reads a Request's Response (u status, a{sv} results).
func response(method string, s *dbus.Signal) (map[string]dbus.Variant, error) {
	var status uint32
	var results map[string]dbus.Variant
	if err := dbus.Store(s.Body, &status, &results); err != nil {
		return nil, fmt.Errorf("desktop: %s answered %v: %w", method, s.Body, err)
	}
	switch status {
	case responseOK:
		return results, nil
	case responseNoWay, responseEnded:
		// The desktop's dialog ran its course without a choice. (A backend
		// that fails answers 2 too; the user then still has drag and drop.)
		return nil, errCancelled
	default:
		return nil, fmt.Errorf("desktop: %s could not be done (the portal's response %d)", method, status)
	}
}

// callError says why a call failed: no portal, or no such interface in it,
// is ErrUnavailable.
func callError(method string, err error) error {
	var de *dbus.Error
	if errors.As(err, &de) {
		switch de.Name {
		case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
			"org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.UnknownInterface",
			"org.freedesktop.DBus.Error.UnknownObject":
			return fmt.Errorf("%w: %s: %v", ErrUnavailable, method, err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s: no answer within %v", ErrUnavailable, method, callTimeout)
	}
	return fmt.Errorf("desktop: %s: %w", method, err)
}

// sessionBus connects to the user's session bus: DBUS_SESSION_BUS_ADDRESS,
// else the one systemd keeps in XDG_RUNTIME_DIR. Never godbus's autolaunch,
// which would start a bus (and an X11 helper) only to find no portal on it.
func sessionBus() (*dbus.Conn, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		run := os.Getenv("XDG_RUNTIME_DIR")
		if run == "" {
			return nil, errors.New("no session bus (DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are unset)")
		}
		bus := filepath.Join(run, "bus")
		if _, err := os.Stat(bus); err != nil {
			return nil, fmt.Errorf("no session bus: %w", err)
		}
		addr = "unix:path=" + bus
	}
	return dbus.Connect(addr)
}

// handleToken names a Request: a valid object path element.
func handleToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "paraphe_" + hex.EncodeToString(b)
}
