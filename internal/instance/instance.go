// Package instance keeps one Paraphe application per user: the first to
// start (the bridge started at login, or the window opened from the menu)
// becomes the primary, which serves the signing bridge; a later start hands
// its request (bring the window forward, files to sign) to the primary and
// ends, so that two applications never fight for the bridge's port.
//
// The primary holds an exclusive lock on a file of the user's runtime
// folder (flock on Unix, a file opened without sharing on Windows: the
// system releases it when the process ends, however it ends) and listens
// on a Unix socket beside it. The folder is the user's own: created mode
// 0700 and refused when another user owns it or may write in it, so that
// no one else can answer or ask in the user's name. A socket left by a
// primary that was killed is found stale and replaced by the next one to
// take the lock.
//
// The folder: $PARAPHE_RUNTIME_DIR, else $XDG_RUNTIME_DIR/paraphe, else
// the system's temporary folder's paraphe-UID (Unix: like tmux's); on
// Windows %LOCALAPPDATA%\Paraphe\run.
package instance

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Request is what a start of Paraphe asks the primary.
type Request struct {
	// Show brings the window forward (shown if hidden); a start of the
	// bridge at login asks nothing of it.
	Show bool `json:"show"`
	// Files are PDFs to sign, absolute paths.
	Files []string `json:"files,omitempty"`
}

// Reply is the primary's answer.
type Reply struct {
	PID int `json:"pid"`
}

// Conditions a caller branches on.
var (
	// ErrRunning: another process holds the lock (it is the primary, or
	// about to be).
	ErrRunning = errors.New("instance: Paraphe runs already for this user")
	// ErrNone: no primary answers.
	ErrNone = errors.New("instance: no Paraphe runs for this user")
	// ErrUnsafeDir: the runtime folder is not the user's own
	// (*UnsafeDirError says which).
	ErrUnsafeDir = errors.New("instance: the runtime folder may be used by others")
)

// UnsafeDirError is a runtime folder refused; it matches ErrUnsafeDir.
type UnsafeDirError struct {
	Dir    string
	Reason string
}

func (e *UnsafeDirError) Error() string        { return fmt.Sprintf("instance: %s: %s", e.Dir, e.Reason) }
func (e *UnsafeDirError) Is(target error) bool { return target == ErrUnsafeDir }

const (
	lockName   = "app.lock"
	socketName = "app.sock"
	// ioTimeout bounds a request's exchange: a primary whose window's
	// loop is stuck does not hold the new start for long.
	ioTimeout = 5 * time.Second
)

// Dir is the user's runtime folder for Paraphe, created if needed.
func Dir() (string, error) {
	dir := os.Getenv("PARAPHE_RUNTIME_DIR")
	if dir == "" {
		var err error
		if dir, err = defaultDir(); err != nil {
			return "", err
		}
	}
	if err := ownDir(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// Primary is this process as the user's one instance.
type Primary struct {
	dir  string
	lock *os.File
	l    net.Listener
	once sync.Once
}

// Claim makes this process the primary: ErrRunning when another holds
// the lock.
func Claim(dir string) (*Primary, error) {
	lock, err := lockFile(filepath.Join(dir, lockName))
	if err != nil {
		return nil, err
	}
	// The lock is ours: a socket there is a dead primary's.
	sock := filepath.Join(dir, socketName)
	os.Remove(sock)
	l, err := net.Listen("unix", sock)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("instance: %w", err)
	}
	return &Primary{dir: dir, lock: lock, l: l}, nil
}

// Serve answers the requests of later starts with handle, until Close.
func (p *Primary) Serve(handle func(Request)) {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(ioTimeout))
			var req Request
			if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil {
				return
			}
			json.NewEncoder(c).Encode(Reply{PID: os.Getpid()})
			handle(req)
		}()
	}
}

// Close stops answering and gives the place up: the socket removed, the
// lock released.
func (p *Primary) Close() error {
	p.once.Do(func() {
		p.l.Close() // removes the socket file
		p.lock.Close()
	})
	return nil
}

// Send hands req to the primary; ErrNone when none answers (none runs, or
// its socket is a dead one's).
func Send(dir string, req Request) (Reply, error) {
	c, err := net.DialTimeout("unix", filepath.Join(dir, socketName), ioTimeout)
	if err != nil {
		return Reply{}, ErrNone
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return Reply{}, ErrNone
	}
	var rep Reply
	if err := json.NewDecoder(c).Decode(&rep); err != nil {
		return Reply{}, ErrNone
	}
	return rep, nil
}

// Start makes this process the primary, or hands req to the one that
// runs: a *Primary, or nil and the primary's reply. A process that holds
// the lock but does not answer yet is starting: Start asks it again for
// up to wait.
func Start(dir string, req Request, wait time.Duration) (*Primary, *Reply, error) {
	deadline := time.Now().Add(wait)
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		if rep, err := Send(dir, req); err == nil {
			return nil, &rep, nil
		}
		p, err := Claim(dir)
		if !errors.Is(err, ErrRunning) {
			return p, nil, err
		}
		if time.Now().After(deadline) {
			return nil, nil, err
		}
		time.Sleep(pause)
	}
}

// Wait hands req to a primary that is expected to start within wait (the
// bridge a service manager starts on its socket): ErrNone when none
// answered.
func Wait(dir string, req Request, wait time.Duration) (Reply, error) {
	deadline := time.Now().Add(wait)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 250*time.Millisecond) {
		rep, err := Send(dir, req)
		if err == nil || time.Now().After(deadline) {
			return rep, err
		}
		time.Sleep(pause)
	}
}
