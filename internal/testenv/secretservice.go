package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// SecretService is a private session bus with gnome-keyring serving the
// Secret Service API, its login keyring unlocked with a test password.
type SecretService struct {
	Dir     string   // HOME, XDG_DATA_HOME and XDG_RUNTIME_DIR live here
	Address string   // DBUS_SESSION_BUS_ADDRESS
	Env     []string // variables a child process needs to use it
	bus     *exec.Cmd
	keyring *exec.Cmd
	ownDir  bool
}

// ErrNoSecretService is returned when dbus-daemon or gnome-keyring-daemon
// is not installed.
var ErrNoSecretService = errors.New("testenv: dbus-daemon or gnome-keyring-daemon is not installed (make deps installs them)")

// StartSecretService starts the bus and the keyring and sets the variables
// in this process's environment too, so that go-keyring reaches them. Call
// it from TestMain (the environment is process-wide) and Stop it after m.Run.
func StartSecretService() (*SecretService, error) {
	for _, c := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(c); err != nil {
			return nil, ErrNoSecretService
		}
	}
	dir, err := os.MkdirTemp("", "paraphe-secretservice-")
	if err != nil {
		return nil, err
	}
	s := &SecretService{Dir: dir, ownDir: true}
	if err := s.start(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *SecretService) start() error {
	run := filepath.Join(s.Dir, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		return err
	}
	s.bus = exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	out, err := s.bus.StdoutPipe()
	if err != nil {
		return err
	}
	s.bus.Stderr = nil
	if err := s.bus.Start(); err != nil {
		return fmt.Errorf("testenv: dbus-daemon: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("testenv: dbus-daemon gave no address: %w", err)
	}
	s.Address = strings.TrimSpace(line)
	s.Env = []string{
		"DBUS_SESSION_BUS_ADDRESS=" + s.Address,
		"HOME=" + s.Dir,
		"XDG_DATA_HOME=" + filepath.Join(s.Dir, "data"),
		"XDG_RUNTIME_DIR=" + run,
	}
	// Watch the bus for the keyring taking its name before starting it,
	// so that readiness is an event, not a guess.
	conn, err := dbus.Connect(s.Address)
	if err != nil {
		return fmt.Errorf("testenv: session bus: %w", err)
	}
	defer conn.Close()
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"),
		dbus.WithMatchArg(0, "org.freedesktop.secrets")); err != nil {
		return fmt.Errorf("testenv: session bus: %w", err)
	}
	signals := make(chan *dbus.Signal, 4)
	conn.Signal(signals)

	s.keyring = exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	s.keyring.Env = append(os.Environ(), s.Env...)
	s.keyring.Stdin = strings.NewReader("paraphe-test-keyring")
	if err := s.keyring.Start(); err != nil {
		return fmt.Errorf("testenv: gnome-keyring-daemon: %w", err)
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case sig := <-signals:
			if len(sig.Body) == 3 && sig.Body[2] != "" {
				for _, kv := range s.Env {
					k, v, _ := strings.Cut(kv, "=")
					os.Setenv(k, v)
				}
				return nil
			}
		case <-timeout:
			return errors.New("testenv: gnome-keyring-daemon did not take org.freedesktop.secrets within 20 s")
		}
	}
}

// Stop ends the keyring and the bus and removes the folder.
func (s *SecretService) Stop() {
	for _, c := range []*exec.Cmd{s.keyring, s.bus} {
		if c != nil && c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	if s.ownDir {
		os.RemoveAll(s.Dir)
	}
}

var mainSecretService error = errors.New("testenv: the package's TestMain did not call MainWithSecretService")

// MainWithSecretService is a TestMain body for packages whose tests use the
// keychain or tokens: it starts a Secret Service, runs the tests, stops it,
// removes the SoftHSM folder, and returns the exit code. Tests call
// NeedSecretService. Under -short new keys and secrets are quick to
// check (QuickKDFInShort).
func MainWithSecretService(m interface{ Run() int }) int {
	QuickKDFInShort()
	ss, err := StartSecretService()
	mainSecretService = err
	code := m.Run()
	if ss != nil {
		ss.Stop()
	}
	removeSoftHSM()
	return code
}

// NeedSecretService skips the test (fails it in CI) when
// MainWithSecretService could not start the Secret Service.
func NeedSecretService(t testing.TB) {
	t.Helper()
	if mainSecretService != nil {
		Missing(t, mainSecretService.Error())
	}
}
