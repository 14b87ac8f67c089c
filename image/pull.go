package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"

	"github.com/gocker/gocker/overlay"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Errors of [Store.Pull].
var (
	// ErrNoPlatform means an image index has no image for the platform.
	ErrNoPlatform = errors.New("no matching platform")
	// ErrUnsupportedMediaType means a manifest or layer has a media type
	// gocker cannot read, such as a Docker schema 1 manifest.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
)

// defaultJobs is the number of layers downloaded and extracted at once.
// More do not help on two CPUs, where decompression and file creation of
// three layers already keep both busy.
const defaultJobs = 3

// PullOptions configures [Store.Pull].
type PullOptions struct {
	Registry RegistryOptions
	// Platform selects the image of an index; nil means [HostPlatform].
	Platform *v1.Platform
	// Progress receives the state of each layer; nil discards it. It is
	// called from several goroutines at once.
	Progress func(Progress)
	// Jobs is the number of layers fetched at once; 0 means 3.
	Jobs int
	// UsedLayers returns the layers that containers mount, kept when a
	// failed pull removes the layers it stored.
	UsedLayers func() (map[string]bool, error)
}

// Progress is the state of one layer of a pull or push.
type Progress struct {
	// Layer is the first 12 hex digits of the layer blob's digest.
	Layer  string
	Status Status
	// Current and Total are bytes of the compressed blob, while
	// downloading or uploading.
	Current, Total int64
}

// Status is a layer's state, worded as Docker prints it.
type Status string

// Layer states.
const (
	StatusWaiting     Status = "Waiting"
	StatusDownloading Status = "Downloading"
	StatusExtracting  Status = "Extracting"
	StatusComplete    Status = "Pull complete"
	StatusExists      Status = "Already exists"
	StatusPushing     Status = "Pushing"
	StatusPushed      Status = "Pushed"
	StatusMounted     Status = "Layer already exists"
)

// Layer media types that [Store.Pull] extracts; [Decompress] tells the
// compression from the content.
var layerMediaTypes = map[types.MediaType]bool{
	types.DockerLayer:             true,
	types.DockerUncompressedLayer: true,
	types.OCILayer:                true,
	types.OCILayerZStd:            true,
	types.OCIUncompressedLayer:    true,
}

// Pull fetches ref from its registry into the store, tags it (unless ref
// is a digest) and records its repository digest. Layers already stored
// (same diff id) are neither downloaded nor extracted again. Every blob's
// digest is checked, and each layer's uncompressed digest against the
// config's diff id. The image enters the index only when every layer is
// stored, so an interrupted pull leaves no image; the next pull reuses
// the layers it finished.
func (s *Store) Pull(ctx context.Context, ref Reference, opts PullOptions) (*Image, error) {
	img, err := s.pull(ctx, ref, opts)
	if err != nil {
		err = opts.Registry.explainAuthError(err, ref.ref.Context().Registry)
		return nil, fmt.Errorf("pull %s: %w", ref, explainIOError(err, s.root))
	}
	return img, nil
}

func (s *Store) pull(ctx context.Context, ref Reference, opts PullOptions) (*Image, error) {
	nref, err := opts.Registry.nameReference(ref)
	if err != nil {
		return nil, err
	}
	ropts, err := opts.Registry.remoteOptions(ctx, nref.Context().Registry)
	if err != nil {
		return nil, err
	}
	rimg, err := fetchImage(nref, ropts, opts.Platform)
	if err != nil {
		return nil, err
	}
	manifest, rawManifest, rawConfig, err := readImageMetadata(rimg)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("decode image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, fmt.Errorf("image config lists %d layers, the manifest %d", len(cfg.RootFS.DiffIDs), len(manifest.Layers))
	}
	for _, l := range manifest.Layers {
		if !layerMediaTypes[l.MediaType] {
			return nil, fmt.Errorf("%w: layer %s has media type %s", ErrUnsupportedMediaType, l.Digest, l.MediaType)
		}
	}

	lock, err := s.Layers.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	layers, err := s.fetchLayers(ctx, rimg, manifest.Layers, cfg.RootFS.DiffIDs, opts)
	if err != nil {
		lock.Unlock()
		// Layers this pull stored for nothing go; those of other images
		// and containers stay.
		_, _ = s.removeUnusedLayers(context.WithoutCancel(ctx), opts.UsedLayers)
		return nil, err
	}
	defer lock.Unlock()
	var tags []string
	if ref.Tag() != "" {
		tags = []string{ref.String()}
	}
	return s.commitImage(ctx, newImage{
		config:     rawConfig,
		manifest:   rawManifest,
		layers:     manifest.Layers,
		diffIDs:    layers,
		tags:       tags,
		repoDigest: ref.Repository(),
	})
}

// fetchImage resolves nref to one image, choosing from an index by
// platform.
func fetchImage(nref name.Reference, ropts []remote.Option, platform *v1.Platform) (v1.Image, error) {
	desc, err := remote.Get(nref, ropts...)
	if err != nil {
		return nil, err
	}
	want := HostPlatform()
	if platform != nil {
		want = *platform
	}
	switch {
	case desc.MediaType.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		chosen, err := selectManifest(im, want)
		if err != nil {
			return nil, err
		}
		return remote.Image(nref.Context().Digest(chosen.Digest.String()), ropts...)
	case desc.MediaType.IsSchema1():
		return nil, fmt.Errorf("%w: %s is a Docker schema 1 manifest, which registries stopped serving in 2020: push the image again with a current tool", ErrUnsupportedMediaType, desc.MediaType)
	case desc.MediaType.IsImage():
		return desc.Image()
	}
	return nil, fmt.Errorf("%w: %s is no image manifest or index", ErrUnsupportedMediaType, desc.MediaType)
}

// readImageMetadata returns an image's manifest and raw config, with the
// config's digest checked against the manifest.
func readImageMetadata(img v1.Image) (*v1.Manifest, []byte, []byte, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, nil, nil, err
	}
	manifest, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("decode manifest: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("fetch image config: %w", err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, nil, nil, err
	}
	if h != manifest.Config.Digest {
		return nil, nil, nil, fmt.Errorf("%w: image config has %s, the manifest says %s", ErrDigestMismatch, h, manifest.Config.Digest)
	}
	return manifest, rawManifest, rawConfig, nil
}

// fetchLayers downloads and extracts the layers that the store lacks,
// opts.Jobs at a time, and returns every layer of the image in order. The
// caller holds the shared layer lock.
func (s *Store) fetchLayers(ctx context.Context, img v1.Image, descs []v1.Descriptor, diffIDs []v1.Hash, opts PullOptions) ([]overlay.Layer, error) {
	report := opts.Progress
	if report == nil {
		report = func(Progress) {}
	}
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = defaultJobs
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	layers := make([]overlay.Layer, len(descs))
	errs := make([]error, len(descs))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i, desc := range descs {
		short := ShortID(desc.Digest.String())
		diffID := diffIDs[i].String()
		if l, err := s.Layers.Get(diffID); err == nil && s.hasBlob(desc.Digest.String()) {
			layers[i] = l
			report(Progress{Layer: short, Status: StatusExists})
			continue
		}
		report(Progress{Layer: short, Status: StatusWaiting})
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = context.Cause(ctx)
				return
			}
			defer func() { <-sem }()
			layers[i], errs[i] = s.fetchLayer(ctx, img, desc, diffID, report)
			if errs[i] != nil {
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return layers, errors.Join(errs...)
}

// fetchLayer downloads one layer blob and extracts it while it arrives.
// A layer stored already whose blob is missing (another image had it
// compressed differently) is downloaded for its blob only.
func (s *Store) fetchLayer(ctx context.Context, img v1.Image, desc v1.Descriptor, diffID string, report func(Progress)) (overlay.Layer, error) {
	short := ShortID(desc.Digest.String())
	rl, err := img.LayerByDigest(desc.Digest)
	if err != nil {
		return overlay.Layer{}, err
	}
	rc, err := rl.Compressed()
	if err != nil {
		return overlay.Layer{}, fmt.Errorf("download layer %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	counter := &progressReader{r: rc, total: desc.Size, report: func(n int64) {
		report(Progress{Layer: short, Status: StatusDownloading, Current: n, Total: desc.Size})
	}}
	if l, err := s.Layers.Get(diffID); err == nil {
		if _, _, err := s.copyBlob(counter, desc.Digest.String()); err != nil {
			return overlay.Layer{}, fmt.Errorf("download layer %s: %w", desc.Digest, err)
		}
		report(Progress{Layer: short, Status: StatusExists})
		return l, nil
	}
	counter.done = func() { report(Progress{Layer: short, Status: StatusExtracting}) }
	// go-containerregistry checks the size and digest of the blob at the
	// end of the stream.
	_, layer, err := s.ingestLayer(ctx, layerSource{r: counter, mediaType: desc.MediaType, digest: desc.Digest.String(), diffID: diffID, verified: true})
	if err != nil {
		return overlay.Layer{}, fmt.Errorf("layer %s: %w", desc.Digest, err)
	}
	report(Progress{Layer: short, Status: StatusComplete})
	return layer, nil
}

// progressReader reports the bytes read through it, about every 256 KiB,
// and calls done at the end of the stream.
type progressReader struct {
	r        io.Reader
	n, last  int64
	total    int64
	report   func(int64)
	done     func()
	finished bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= 256<<10 || (err != nil && p.n != p.last) {
		p.last = p.n
		p.report(p.n)
	}
	if errors.Is(err, io.EOF) && !p.finished {
		p.finished = true
		if p.done != nil {
			p.done()
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && p.n < p.total {
		return n, fmt.Errorf("download interrupted after %d of %d bytes: %w", p.n, p.total, err)
	}
	return n, err
}

// explainIOError adds the likely fix to errors that name a full disk.
func explainIOError(err error, root string) error {
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device") {
		return fmt.Errorf("%w: free space on the file system of %s, or choose another store with --root", err, root)
	}
	return err
}
