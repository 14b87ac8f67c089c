package overlay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/internal/lockfile"
	"github.com/gocker/gocker/userns"
)

// Layer is the metadata of an extracted layer.
type Layer struct {
	// DiffID is "sha256:HEX" of the uncompressed layer tar.
	DiffID string `json:"diff_id"`
	// Size is the length of the uncompressed tar in bytes.
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// ErrLayerNotFound means the store has no layer with the diff id.
var ErrLayerNotFound = errors.New("layer not found")

// LayerStore is the directory of extracted layers.
type LayerStore struct {
	dir  string
	lock string
}

// OpenLayerStore opens the layer store under root, creating it.
func OpenLayerStore(root string) (*LayerStore, error) {
	dir := filepath.Join(root, "layers")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create layer store: %w", err)
	}
	return &LayerStore{dir: dir, lock: filepath.Join(root, "layers.lock")}, nil
}

// Dir returns the directory that holds the layer directories, which the
// container init changes into before mounting.
func (s *LayerStore) Dir() string { return s.dir }

// Key returns the name of a layer's directory: the hex digits of its diff
// id. It rejects anything that is not a sha256 digest, so a key never
// names a path outside the store.
func Key(diffID string) (string, error) {
	hexPart, ok := strings.CutPrefix(diffID, "sha256:")
	if !ok || len(hexPart) != 64 {
		return "", fmt.Errorf("invalid layer diff id %q: want sha256:<64 hex digits>", diffID)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return "", fmt.Errorf("invalid layer diff id %q: want sha256:<64 hex digits>", diffID)
	}
	return hexPart, nil
}

// DiffPath returns the extracted tree of a layer (its overlay lower dir).
func (s *LayerStore) DiffPath(diffID string) (string, error) {
	key, err := Key(diffID)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, key, "diff"), nil
}

// Get returns a layer's metadata, or [ErrLayerNotFound].
func (s *LayerStore) Get(diffID string) (Layer, error) {
	key, err := Key(diffID)
	if err != nil {
		return Layer{}, err
	}
	var l Layer
	err = atomicfile.ReadJSON(filepath.Join(s.dir, key, "layer.json"), &l)
	if errors.Is(err, fs.ErrNotExist) {
		return Layer{}, fmt.Errorf("%w: %s", ErrLayerNotFound, diffID)
	}
	return l, err
}

// Exists reports whether the layer is stored.
func (s *LayerStore) Exists(diffID string) bool {
	_, err := s.Get(diffID)
	return err == nil
}

// LockShared takes the layer lock for extraction or for creating a
// container; removal waits until it is released.
func (s *LayerStore) LockShared(ctx context.Context) (*lockfile.Lock, error) {
	return lockfile.Shared(ctx, s.lock)
}

// LockExclusive takes the layer lock for removal.
func (s *LayerStore) LockExclusive(ctx context.Context) (*lockfile.Lock, error) {
	return lockfile.Exclusive(ctx, s.lock)
}

// TempDir creates a directory for a layer being extracted and returns it;
// the tree goes into its "diff" subdirectory, which is created too.
func (s *LayerStore) TempDir() (string, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	dir := filepath.Join(s.dir, ".tmp-"+hex.EncodeToString(b))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("create layer directory: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "diff"), 0o755); err != nil {
		_ = os.Remove(dir)
		return "", fmt.Errorf("create layer directory: %w", err)
	}
	return dir, nil
}

// Commit turns the extracted temporary directory tmp into the stored layer
// l. When another extraction stored the same layer first, tmp is removed
// and the stored layer is kept.
func (s *LayerStore) Commit(ctx context.Context, tmp string, l Layer) error {
	key, err := Key(l.DiffID)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteJSON(filepath.Join(tmp, "layer.json"), &l, 0o600); err != nil {
		return err
	}
	err = os.Rename(tmp, filepath.Join(s.dir, key))
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) {
		return userns.RemoveAll(ctx, tmp)
	}
	return fmt.Errorf("store layer %s: %w", l.DiffID, err)
}

// Remove deletes a layer. The caller holds the exclusive lock and has made
// sure that no image or container uses the layer.
func (s *LayerStore) Remove(ctx context.Context, diffID string) error {
	key, err := Key(diffID)
	if err != nil {
		return err
	}
	trash := filepath.Join(s.dir, ".rm-"+key)
	if err := os.Rename(filepath.Join(s.dir, key), trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove layer %s: %w", diffID, err)
	}
	return userns.RemoveAll(ctx, trash)
}

// List returns every stored layer.
func (s *LayerStore) List() ([]Layer, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var layers []Layer
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if l, err := s.Get("sha256:" + e.Name()); err == nil {
			layers = append(layers, l)
		}
	}
	return layers, nil
}

// RemoveLeftovers deletes the temporary and half-removed directories that
// killed extractions and removals left. The caller holds the exclusive
// lock, so no extraction is in progress.
func (s *LayerStore) RemoveLeftovers(ctx context.Context) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), ".rm-") {
			errs = append(errs, userns.RemoveAll(ctx, filepath.Join(s.dir, e.Name())))
		}
	}
	return errors.Join(errs...)
}
