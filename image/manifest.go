package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gocker/gocker/overlay"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Manifest reads an image's stored manifest and returns it with its raw
// bytes, whose digest is img.Manifest.
func (s *Store) Manifest(img *Image) (*v1.Manifest, []byte, error) {
	if img.Manifest == "" {
		return nil, nil, fmt.Errorf("image %s has no stored manifest: it was made by an older gocker; import or pull it again", ShortID(img.ID))
	}
	raw, err := s.readBlob(img.Manifest)
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest of image %s: %w", ShortID(img.ID), err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("decode manifest of image %s: %w", ShortID(img.ID), err)
	}
	return m, raw, nil
}

// newManifest returns the OCI manifest of a config blob and layer blobs.
func newManifest(config []byte, layers []v1.Descriptor) ([]byte, error) {
	h, size, err := v1.SHA256(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: h, Size: size},
		Layers:        layers,
	}
	return json.Marshal(&m)
}

// newImage is an image about to enter the index.
type newImage struct {
	config   []byte // raw config, whose digest is the image id
	manifest []byte // raw manifest; nil: an OCI manifest is written
	layers   []v1.Descriptor
	diffIDs  []overlay.Layer
	tags     []string
	// repoDigest is the repository ("docker.io/library/alpine") the
	// manifest came from; "" when it came from no registry.
	repoDigest string
}

// commitImage stores the config and manifest blobs and adds the image to
// the index. The caller holds the layer lock and has stored every layer
// and layer blob.
func (s *Store) commitImage(ctx context.Context, n newImage) (*Image, error) {
	cfg, err := v1.ParseConfigFile(bytes.NewReader(n.config))
	if err != nil {
		return nil, fmt.Errorf("decode image config: %w", err)
	}
	id, err := s.writeBlob(n.config)
	if err != nil {
		return nil, fmt.Errorf("store image config: %w", err)
	}
	if n.manifest == nil {
		if n.manifest, err = newManifest(n.config, n.layers); err != nil {
			return nil, err
		}
	}
	manifest, err := s.writeBlob(n.manifest)
	if err != nil {
		return nil, fmt.Errorf("store manifest: %w", err)
	}
	img := &Image{ID: id, Manifest: manifest, Created: cfg.Created.UTC()}
	if img.Created.IsZero() {
		img.Created = time.Now().UTC()
	}
	for _, l := range n.diffIDs {
		img.Layers = append(img.Layers, l.DiffID)
		img.Size += l.Size
	}
	var digests []string
	if n.repoDigest != "" {
		digests = []string{n.repoDigest + "@" + manifest}
	}
	if err := s.add(ctx, img, n.tags, digests); err != nil {
		return nil, err
	}
	return img, nil
}
