package image

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/gocker/gocker/overlay"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
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
// gzip, zstd, xz or bzip2) and tags it ref. A plain, gzip or zstd tar is
// stored as the layer blob as it is; xz and bzip2, which are no OCI layer
// formats, are stored gzip-compressed.
func (s *Store) Import(ctx context.Context, r io.Reader, ref Reference, opts ImportOptions) (*Image, error) {
	src, closeSrc, err := importSource(r)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	return s.importLayer(ctx, src, ref, opts)
}

// importSource returns the layer source of a tarball in any format that
// [Decompress] reads.
func importSource(r io.Reader) (layerSource, func(), error) {
	br := bufio.NewReaderSize(r, readBufferSize)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return layerSource{}, nil, fmt.Errorf("read tarball: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return layerSource{r: br, mediaType: types.OCILayer}, func() {}, nil
	case bytes.HasPrefix(head, zstdMagic):
		return layerSource{r: br, mediaType: types.OCILayerZStd}, func() {}, nil
	case bytes.HasPrefix(head, xzMagic), isBzip2(head):
		dr, err := Decompress(br)
		if err != nil {
			return layerSource{}, nil, err
		}
		return layerSource{r: dr, compress: true}, func() { dr.Close() }, nil
	}
	return layerSource{r: br, mediaType: types.OCIUncompressedLayer}, func() {}, nil
}

// importLayer makes an image of the one layer src.
func (s *Store) importLayer(ctx context.Context, src layerSource, ref Reference, opts ImportOptions) (*Image, error) {
	cfg := &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH}
	if err := ApplyChanges(&cfg.Config, opts.Changes); err != nil {
		return nil, err
	}
	lock, err := s.Layers.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	desc, layer, err := s.ingestLayer(ctx, src)
	if err != nil {
		return nil, err
	}
	cfg.Created = v1.Time{Time: time.Now().UTC()}
	cfg.RootFS = v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{mustHash(layer.DiffID)}}
	cfg.History = []v1.History{{Created: cfg.Created, CreatedBy: opts.CreatedBy, Comment: opts.Message}}
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode image config: %w", err)
	}
	return s.commitImage(ctx, newImage{
		config:  config,
		layers:  []v1.Descriptor{desc},
		diffIDs: []overlay.Layer{layer},
		tags:    []string{ref.String()},
	})
}

func mustHash(digest string) v1.Hash {
	h, err := v1.NewHash(digest)
	if err != nil {
		panic(fmt.Sprintf("invalid digest %q from the layer applier", digest))
	}
	return h
}
