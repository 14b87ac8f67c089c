package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/gocker/gocker/overlay"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CommitOptions configures [Store.Commit].
type CommitOptions struct {
	// UpperDir is the container's overlay upper directory.
	UpperDir string
	// Exclude are paths in UpperDir ("etc/hosts") left out of the layer:
	// the mount points of files that gocker bind-mounts into containers.
	Exclude []string
	// Base is the image the container was created from.
	Base *Image
	// Config is the container's configuration. Its user, environment,
	// entrypoint, command and working directory replace the base image's
	// before Changes apply, as docker commit does.
	Config v1.Config
	// Changes are Dockerfile instructions applied to the config.
	Changes []string
	// Message and Author are recorded in the image's history.
	Message, Author string
	// CreatedBy describes the container in the history.
	CreatedBy string
	// Tag names the image; the zero Reference leaves it untagged.
	Tag *Reference
}

// Commit makes an image of a container: the base image's layers and one
// new layer with the container's changes, read from its upper directory
// as root in the user namespace. It works on a running container; files
// that change meanwhile are taken as they are when read.
func (s *Store) Commit(ctx context.Context, opts CommitOptions) (*Image, error) {
	cfg, err := s.Config(opts.Base)
	if err != nil {
		return nil, err
	}
	baseManifest, _, err := s.Manifest(opts.Base)
	if err != nil {
		return nil, err
	}
	c := opts.Config
	cfg.Config.User, cfg.Config.Env, cfg.Config.WorkingDir = c.User, c.Env, c.WorkingDir
	cfg.Config.Entrypoint, cfg.Config.Cmd = c.Entrypoint, c.Cmd
	if err := ApplyChanges(&cfg.Config, opts.Changes); err != nil {
		return nil, err
	}
	lock, err := s.Layers.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	var layers []overlay.Layer
	for _, id := range opts.Base.Layers {
		l, err := s.Layers.Get(id)
		if err != nil {
			return nil, fmt.Errorf("layer of image %s: %w", ShortID(opts.Base.ID), err)
		}
		layers = append(layers, l)
	}

	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeDiffAsRoot(ctx, pw, opts.UpperDir, opts.Exclude)) }()
	desc, layer, err := s.ingestLayer(ctx, layerSource{r: pr, compress: true})
	pr.CloseWithError(err)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", opts.UpperDir, err)
	}

	now := time.Now().UTC()
	cfg.Created = v1.Time{Time: now}
	cfg.Author = opts.Author
	cfg.Container = ""
	cfg.RootFS.Type = "layers"
	cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, mustHash(layer.DiffID))
	cfg.History = append(cfg.History, v1.History{Created: cfg.Created, Author: opts.Author, CreatedBy: opts.CreatedBy, Comment: opts.Message})
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode image config: %w", err)
	}
	n := newImage{
		config:  config,
		layers:  append(ociDescriptors(baseManifest.Layers), desc),
		diffIDs: append(layers, layer),
	}
	if opts.Tag != nil {
		n.tags = []string{opts.Tag.String()}
	}
	return s.commitImage(ctx, n)
}

// ociDescriptors returns layer descriptors with Docker's media types
// replaced by their OCI equivalents, for an OCI manifest.
func ociDescriptors(descs []v1.Descriptor) []v1.Descriptor {
	out := make([]v1.Descriptor, len(descs))
	for i, d := range descs {
		switch d.MediaType {
		case types.DockerLayer:
			d.MediaType = types.OCILayer
		case types.DockerUncompressedLayer:
			d.MediaType = types.OCIUncompressedLayer
		}
		out[i] = d
	}
	return out
}
