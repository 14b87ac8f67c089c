package image

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ImportOptions configures [Store.Import].
type ImportOptions struct {
	// Changes are Dockerfile instructions applied to the new image's config.
	Changes []string
	// Message is recorded in the image's history.
	Message string
	// CreatedBy is the history's description of how the layer was made.
	CreatedBy string
}

// Import makes an image of one layer from a root filesystem tar (plain,
// gzip, zstd, xz or bzip2) and tags it ref.
func (s *Store) Import(ctx context.Context, r io.Reader, ref Reference, opts ImportOptions) (*Image, error) {
	cfg := &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH}
	if err := ApplyChanges(&cfg.Config, opts.Changes); err != nil {
		return nil, err
	}
	lock, err := s.Layers.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	layer, err := s.extractLayer(ctx, r)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	cfg.Created = v1.Time{Time: now}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{mustHash(layer.DiffID)}}
	cfg.History = []v1.History{{Created: cfg.Created, CreatedBy: opts.CreatedBy, Comment: opts.Message}}
	id, err := s.writeConfig(cfg)
	if err != nil {
		return nil, err
	}
	img := &Image{ID: id, Layers: []string{layer.DiffID}, Created: now, Size: layer.Size}
	if err := s.add(ctx, img, ref.String()); err != nil {
		return nil, err
	}
	return img, nil
}

func mustHash(digest string) v1.Hash {
	h, err := v1.NewHash(digest)
	if err != nil {
		panic(fmt.Sprintf("invalid digest %q from the layer applier", digest))
	}
	return h
}
