package testenv

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// node/ pins node-signpdf (@signpdf/signpdf, signer-p12, placeholder-plain)
// in a package-lock.json and holds the script that drives it.
//
//go:embed node/package.json node/package-lock.json node/sign.js
var nodeFiles embed.FS

// NodeSignPDF is node-signpdf from the npm registry, at the versions of
// node/package-lock.json, installed by npm ci once per machine in the
// user's cache folder (os.UserCacheDir()/paraphe-test/node-signpdf-KEY,
// KEY a digest of the lock file and the script), never in the repository.
type NodeSignPDF struct {
	dir string
}

var nodeInstall struct {
	sync.Mutex
	dir string
}

// NewNodeSignPDF installs node-signpdf if this machine does not have it
// yet. Without node, npm or the registry the test is skipped (failed in
// CI), and in short mode.
func NewNodeSignPDF(t testing.TB) *NodeSignPDF {
	t.Helper()
	Slow(t, "node-signpdf under Node.js")
	Require(t, "node", "npm")
	nodeInstall.Lock()
	defer nodeInstall.Unlock()
	if nodeInstall.dir == "" {
		dir, err := installNodeSignPDF()
		if errors.Is(err, errNPM) {
			Missing(t, err.Error())
		}
		if err != nil {
			t.Fatal(err)
		}
		nodeInstall.dir = dir
	}
	return &NodeSignPDF{dir: nodeInstall.dir}
}

var errNPM = errors.New("npm ci could not install node-signpdf (is the npm registry reachable?)")

func installNodeSignPDF() (string, error) {
	h := sha256.New()
	var files []string
	err := fs.WalkDir(nodeFiles, "node", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
			data, _ := nodeFiles.ReadFile(path)
			fmt.Fprintf(h, "%s %d\n", path, len(data))
			h.Write(data)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cache, "paraphe-test")
	final := filepath.Join(root, "node-signpdf-"+hex.EncodeToString(h.Sum(nil))[:16])
	done := filepath.Join(final, ".installed")
	if _, err := os.Stat(done); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	// Installed aside then renamed into place, so that another test
	// process installing at the same time never sees half a folder.
	tmp, err := os.MkdirTemp(root, "node-signpdf-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		data, _ := nodeFiles.ReadFile(f)
		if err := os.WriteFile(filepath.Join(tmp, filepath.Base(f)), data, 0o644); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %v\n%s", errNPM, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".installed"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(done); serr == nil {
			return final, nil // another process won the race
		}
		// A folder left by an interrupted install, without its mark.
		if rerr := os.RemoveAll(final); rerr != nil {
			return "", rerr
		}
		if err := os.Rename(tmp, final); err != nil {
			return "", err
		}
	}
	return final, nil
}

// Sign signs in into out with node-signpdf (adbe.pkcs7.detached, SHA-256,
// node-forge's RSA PKCS#1 v1.5) with the key and chain of p's signer.p12.
// node-forge reads RSA keys and certificates only: p must be an RSA PKI.
func (n *NodeSignPDF) Sign(t testing.TB, p *SignerPKI, in, out, reason string) error {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(n.dir, "sign.js"), p.File("signer.p12"), in, out, reason)
	cmd.Env = append(os.Environ(), "P12_PASSWORD="+P12Password)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("node sign.js: %w\n%s", err, msg)
	}
	return nil
}
