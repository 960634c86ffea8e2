package exchange

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// orphanAge is how old a file in the documents folder that no document
// names must be before the sweeper removes it (an upload cut by a crash):
// older than any upload still running.
const orphanAge = 24 * time.Hour

// Sweep destroys the parcels whose expiry has come: their keys and note
// are forgotten (in one transaction per parcel: the documents are then
// unreadable), then their files removed; their slips and audit stay. It
// also removes the files left by a crash between the two, and uploads a
// crash cut short. It returns the number of parcels it expired. Replicas
// may sweep at once: each parcel is expired once.
func (x *Exchange) Sweep(ctx context.Context) (int, error) {
	var due []string
	if err := x.withTx(ctx, func(t *tx) (err error) { due, err = t.dueParcels(x.now()); return err }); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		err := x.withTx(ctx, func(t *tx) error {
			ok, err := t.destroyParcel(id, StatusExpired, x.now())
			if err != nil || !ok {
				return err
			}
			n++
			return t.event(x.now(), 0, id, "", "expired", "")
		})
		if err != nil {
			return n, err
		}
	}
	if n > 0 {
		x.Log.Info("parcels expired", "count", n)
	}
	if err := x.withTx(ctx, func(t *tx) error {
		return t.deleteStaleSessions(x.now().Add(-time.Duration(x.Config.SessionMaxHours) * time.Hour))
	}); err != nil {
		return n, err
	}
	return n, x.removeFiles(ctx)
}

// removeFiles removes the sealed files whose keys are destroyed, and the
// orphans.
func (x *Exchange) removeFiles(ctx context.Context) error {
	var pending []string
	var known map[string]bool
	if err := x.withTx(ctx, func(t *tx) (err error) { pending, known, err = t.blobs(); return err }); err != nil {
		return err
	}
	for _, blob := range pending {
		if err := os.Remove(filepath.Join(x.docs, blob)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := x.withTx(ctx, func(t *tx) error { return t.removedBlob(blob) }); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(x.docs)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if known[name] || !(strings.HasSuffix(name, blobExtension) || strings.HasSuffix(name, ".part")) {
			continue
		}
		fi, err := e.Info()
		if err != nil || x.now().Sub(fi.ModTime()) < orphanAge {
			continue
		}
		// Known now? (a parcel sent since the list was read)
		var again map[string]bool
		if x.withTx(ctx, func(t *tx) (err error) { _, again, err = t.blobs(); return err }) != nil || again[name] {
			continue
		}
		os.Remove(filepath.Join(x.docs, name))
	}
	return nil
}

// Sweeper runs Sweep every interval until ctx is done.
func (x *Exchange) Sweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := x.Sweep(ctx); err != nil && ctx.Err() == nil {
			x.Log.Error("sweep", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
