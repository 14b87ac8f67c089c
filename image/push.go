package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// PushOptions configures [Store.Push].
type PushOptions struct {
	Registry RegistryOptions
	// Progress receives the state of each layer; nil discards it.
	Progress func(Progress)
}

// Push uploads the image named ref to ref's registry: the stored layer
// blobs, the config and the manifest, byte for byte as stored, so the
// image keeps its id, diff ids and manifest digest. Blobs the registry
// has are not sent again. It records and returns the repository digest.
func (s *Store) Push(ctx context.Context, ref Reference, opts PushOptions) (string, error) {
	digest, err := s.push(ctx, ref, opts)
	if err != nil {
		err = opts.Registry.explainAuthError(err, ref.ref.Context().Registry)
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	return digest, nil
}

func (s *Store) push(ctx context.Context, ref Reference, opts PushOptions) (string, error) {
	if ref.Digest() != "" {
		return "", fmt.Errorf("give NAME[:TAG], not a digest")
	}
	img, err := s.Get(ref.String())
	if err != nil {
		return "", err
	}
	stored, err := s.storedImage(img)
	if err != nil {
		return "", err
	}
	nref, err := opts.Registry.nameReference(ref)
	if err != nil {
		return "", err
	}
	ropts, err := opts.Registry.remoteOptions(ctx, nref.Context().Registry)
	if err != nil {
		return "", err
	}
	report := opts.Progress
	if report == nil {
		report = func(Progress) {}
	}
	if err := pushLayers(nref.Context(), stored, ropts, report); err != nil {
		return "", err
	}
	v1img, err := partial.CompressedToImage(stored)
	if err != nil {
		return "", err
	}
	if err := remote.Write(nref, v1img, ropts...); err != nil {
		return "", err
	}
	if err := s.add(ctx, img, nil, []string{ref.Repository() + "@" + img.Manifest}); err != nil {
		return "", err
	}
	return img.Manifest, nil
}

// pushLayers uploads the layer blobs, three at a time, reporting each.
func pushLayers(repo name.Repository, img *storedImage, ropts []remote.Option, report func(Progress)) error {
	sem := make(chan struct{}, defaultJobs)
	errs := make([]error, len(img.manifest.Layers))
	var wg sync.WaitGroup
	for i, desc := range img.manifest.Layers {
		short := ShortID(desc.Digest.String())
		report(Progress{Layer: short, Status: StatusWaiting})
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			layer := &storedLayer{s: img.s, desc: desc, progress: func(n int64) {
				report(Progress{Layer: short, Status: StatusPushing, Current: n, Total: desc.Size})
			}}
			cl, err := partial.CompressedToLayer(layer)
			if err == nil {
				err = remote.WriteLayer(repo, cl, ropts...)
			}
			if err != nil {
				errs[i] = fmt.Errorf("layer %s: %w", desc.Digest, err)
				return
			}
			if layer.opened {
				report(Progress{Layer: short, Status: StatusPushed})
			} else {
				report(Progress{Layer: short, Status: StatusMounted})
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// storedImage is an image of the store as go-containerregistry's partial
// package reads it.
type storedImage struct {
	s           *Store
	manifest    *v1.Manifest
	rawManifest []byte
	rawConfig   []byte
}

func (s *Store) storedImage(img *Image) (*storedImage, error) {
	m, raw, err := s.Manifest(img)
	if err != nil {
		return nil, err
	}
	cfg, err := s.readBlob(img.ID)
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w", ShortID(img.ID), err)
	}
	for _, l := range m.Layers {
		if !s.hasBlob(l.Digest.String()) {
			return nil, fmt.Errorf("layer blob %s of image %s is not stored: pull or load the image again", l.Digest, ShortID(img.ID))
		}
	}
	return &storedImage{s: s, manifest: m, rawManifest: raw, rawConfig: cfg}, nil
}

func (i *storedImage) RawConfigFile() ([]byte, error) { return i.rawConfig, nil }
func (i *storedImage) RawManifest() ([]byte, error)   { return i.rawManifest, nil }

func (i *storedImage) MediaType() (types.MediaType, error) {
	if i.manifest.MediaType == "" {
		return types.OCIManifestSchema1, nil
	}
	return i.manifest.MediaType, nil
}

func (i *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.manifest.Layers {
		if l.Digest == h {
			return &storedLayer{s: i.s, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("image has no layer %s", h)
}

var _ partial.CompressedImageCore = (*storedImage)(nil)

// storedLayer is a stored layer blob.
type storedLayer struct {
	s        *Store
	desc     v1.Descriptor
	progress func(int64)
	opened   bool
}

func (l *storedLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *storedLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *storedLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

func (l *storedLayer) Compressed() (io.ReadCloser, error) {
	f, err := l.s.openBlob(l.desc.Digest.String())
	if err != nil {
		return nil, err
	}
	l.opened = true
	if l.progress == nil {
		return f, nil
	}
	return struct {
		io.Reader
		io.Closer
	}{&progressReader{r: f, total: l.desc.Size, report: l.progress}, f}, nil
}

var _ partial.CompressedLayer = (*storedLayer)(nil)

// Login checks user and password against registry and returns nil when
// the registry accepts them.
func Login(ctx context.Context, registry, user, password string, opts RegistryOptions) error {
	var nopts []name.Option
	if opts.isInsecure(registry) {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(registry, nopts...)
	if err != nil {
		return fmt.Errorf("invalid registry %q: %w", registry, err)
	}
	t, err := opts.transport(reg.RegistryStr())
	if err != nil {
		return err
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	rt, err := transport.NewWithContext(ctx, reg, auth, t, nil)
	if err != nil {
		return fmt.Errorf("log in to %s: %w", registry, err)
	}
	schemes := []string{"https"}
	if opts.isInsecure(registry) {
		schemes = append(schemes, "http")
	}
	var errs []error
	for _, scheme := range schemes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+reg.RegistryStr()+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := (&http.Client{Transport: rt}).Do(req)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("log in to %s: the registry refused user %q (%s): check the user name and password", registry, user, resp.Status)
		}
		errs = append(errs, fmt.Errorf("GET %s: %s", req.URL, resp.Status))
	}
	return fmt.Errorf("log in to %s: %w", registry, errors.Join(errs...))
}
