package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gocker/gocker/overlay"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrUnknownArchive means a file to load is neither a docker-archive nor
// an OCI image layout.
var ErrUnknownArchive = errors.New("unknown image archive")

// LoadResult is one image that [Store.Load] stored.
type LoadResult struct {
	Image *Image
	// Tags are the canonical references it got; empty when the archive
	// names none.
	Tags []string
}

// archiveReader gives the files of an archive by name.
type archiveReader interface {
	open(name string) (io.ReadCloser, error)
}

// dirArchive reads an archive unpacked in a directory.
type dirArchive string

func (d dirArchive) open(name string) (io.ReadCloser, error) {
	clean := path.Clean("/" + name)[1:]
	return os.Open(filepath.Join(string(d), filepath.FromSlash(clean)))
}

// tarArchive reads the files of a tar file in place.
type tarArchive struct {
	f     *os.File
	files map[string]*io.SectionReader
}

// indexTar records where each regular file of the tar f starts, so files
// can be read in any order without unpacking the tar.
func indexTar(f *os.File) (*tarArchive, error) {
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	a := &tarArchive{f: f, files: map[string]*io.SectionReader{}}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			a.files[path.Clean("/" + hdr.Name)[1:]] = io.NewSectionReader(f, cr.n, hdr.Size)
		}
	}
}

func (a *tarArchive) open(name string) (io.ReadCloser, error) {
	sr, ok := a.files[path.Clean("/" + name)[1:]]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
	}
	return io.NopCloser(io.NewSectionReader(sr, 0, sr.Size())), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Load stores the images of a docker-archive or OCI image layout, read
// from the tar file or directory at src ("-" or "" reads a tar from
// stdin, which is spooled to a temporary file first). A compressed tar is
// decompressed. Every layer's digest is checked against its config.
func (s *Store) Load(ctx context.Context, src string, stdin io.Reader) ([]LoadResult, error) {
	name := src
	if src == "" || src == "-" {
		name = "standard input"
	}
	archive, cleanup, err := s.openArchive(src, stdin)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	defer cleanup()
	lock, err := s.Layers.LockShared(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	var res []LoadResult
	if rc, err := archive.open("manifest.json"); err == nil {
		res, err = s.loadDocker(ctx, archive, rc)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		return res, nil
	}
	if rc, err := archive.open("index.json"); err == nil {
		res, err = s.loadOCI(ctx, archive, rc)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		return res, nil
	}
	return nil, fmt.Errorf("load %s: %w: it has neither manifest.json (docker-archive) nor index.json (OCI image layout)", name, ErrUnknownArchive)
}

// openArchive opens src as a directory or a tar file, decompressing and
// spooling it to a temporary file unless it is a plain tar file.
func (s *Store) openArchive(src string, stdin io.Reader) (archiveReader, func(), error) {
	if src != "" && src != "-" {
		st, err := os.Stat(src)
		if err != nil {
			return nil, nil, err
		}
		if st.IsDir() {
			return dirArchive(src), func() {}, nil
		}
		f, err := os.Open(src)
		if err != nil {
			return nil, nil, err
		}
		head := make([]byte, sniffLen)
		n, _ := io.ReadFull(f, head)
		if !isCompressed(head[:n]) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				f.Close()
				return nil, nil, err
			}
			a, err := indexTar(f)
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			return a, func() { f.Close() }, nil
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, nil, err
		}
		defer f.Close()
		stdin = f
	}
	return s.spoolArchive(stdin)
}

func isCompressed(head []byte) bool {
	return bytes.HasPrefix(head, gzipMagic) || bytes.HasPrefix(head, zstdMagic) ||
		bytes.HasPrefix(head, xzMagic) || isBzip2(head)
}

// spoolArchive decompresses r into a temporary file in the store and
// indexes it.
func (s *Store) spoolArchive(r io.Reader) (archiveReader, func(), error) {
	dr, err := Decompress(bufio.NewReader(r))
	if err != nil {
		return nil, nil, err
	}
	defer dr.Close()
	f, err := os.CreateTemp(s.root, ".load-")
	if err != nil {
		return nil, nil, err
	}
	// The open file outlives its name, so a gocker killed during the load
	// leaves no file behind.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, nil, err
	}
	cleanup := func() { f.Close() }
	if _, err := io.Copy(f, dr); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("read archive: %w", err)
	}
	// indexTar reads from the file's offset, which the copy left at the end.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, err
	}
	a, err := indexTar(f)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return a, cleanup, nil
}

func readAll(a archiveReader, name string) ([]byte, error) {
	rc, err := a.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// loadDocker stores the images of a docker-archive's manifest.json.
func (s *Store) loadDocker(ctx context.Context, a archiveReader, manifestFile io.ReadCloser) ([]LoadResult, error) {
	var entries []dockerManifestEntry
	err := json.NewDecoder(manifestFile).Decode(&entries)
	manifestFile.Close()
	if err != nil {
		return nil, fmt.Errorf("decode manifest.json: %w", err)
	}
	var res []LoadResult
	for _, e := range entries {
		config, err := readAll(a, e.Config)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", e.Config, err)
		}
		cfg, err := v1.ParseConfigFile(bytes.NewReader(config))
		if err != nil {
			return nil, fmt.Errorf("decode config %s: %w", e.Config, err)
		}
		if len(cfg.RootFS.DiffIDs) != len(e.Layers) {
			return nil, fmt.Errorf("config %s lists %d layers, manifest.json %d", e.Config, len(cfg.RootFS.DiffIDs), len(e.Layers))
		}
		var descs []v1.Descriptor
		var layers []overlay.Layer
		for i, name := range e.Layers {
			desc, layer, err := s.loadLayer(ctx, a, name, v1.Descriptor{}, cfg.RootFS.DiffIDs[i].String())
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", name, err)
			}
			descs, layers = append(descs, desc), append(layers, layer)
		}
		tags, err := canonicalTags(e.RepoTags)
		if err != nil {
			return nil, err
		}
		img, err := s.commitImage(ctx, newImage{config: config, layers: descs, diffIDs: layers, tags: tags})
		if err != nil {
			return nil, err
		}
		res = append(res, LoadResult{Image: img, Tags: tags})
	}
	return res, nil
}

func canonicalTags(names []string) ([]string, error) {
	var tags []string
	for _, n := range names {
		ref, err := ParseReference(n)
		if err != nil {
			return nil, err
		}
		tags = append(tags, ref.String())
	}
	return tags, nil
}

// loadLayer stores one layer from the archive file name. want describes
// the blob when a manifest does (OCI); for a docker-archive it is empty
// and the media type follows from the content.
func (s *Store) loadLayer(ctx context.Context, a archiveReader, name string, want v1.Descriptor, diffID string) (v1.Descriptor, overlay.Layer, error) {
	rc, err := a.open(name)
	if err != nil {
		return v1.Descriptor{}, overlay.Layer{}, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, readBufferSize)
	src := layerSource{r: br, mediaType: want.MediaType, diffID: diffID}
	if want.Digest != (v1.Hash{}) {
		src.digest = want.Digest.String()
	} else {
		head, _ := br.Peek(sniffLen)
		switch {
		case bytes.HasPrefix(head, gzipMagic):
			src.mediaType = types.OCILayer
		case bytes.HasPrefix(head, zstdMagic):
			src.mediaType = types.OCILayerZStd
		default:
			src.mediaType = types.OCIUncompressedLayer
		}
	}
	if l, err := s.Layers.Get(diffID); err == nil {
		// Stored already: only the blob may be missing.
		digest, size, err := s.copyBlob(br, src.digest)
		if err != nil {
			return v1.Descriptor{}, overlay.Layer{}, err
		}
		return v1.Descriptor{MediaType: src.mediaType, Digest: mustHash(digest), Size: size}, l, nil
	}
	return s.ingestLayer(ctx, src)
}

// ociIndexName returns the reference an OCI index entry names, or "".
func ociIndexName(d v1.Descriptor) string {
	if n := d.Annotations[annotationImageName]; n != "" {
		return n
	}
	// A bare tag ("latest") names no repository.
	if n := d.Annotations[annotationRefName]; strings.ContainsAny(n, ":/") {
		return n
	}
	return ""
}

// loadOCI stores the images of an OCI image layout's index.json; a nested
// index gives the image for this machine's platform.
func (s *Store) loadOCI(ctx context.Context, a archiveReader, indexFile io.ReadCloser) ([]LoadResult, error) {
	index, err := v1.ParseIndexManifest(indexFile)
	indexFile.Close()
	if err != nil {
		return nil, fmt.Errorf("decode index.json: %w", err)
	}
	var res []LoadResult
	for _, d := range index.Manifests {
		var tags []string
		if n := ociIndexName(d); n != "" {
			if tags, err = canonicalTags([]string{n}); err != nil {
				return nil, err
			}
		}
		desc, err := s.resolveOCIManifest(a, d)
		if err != nil {
			return nil, err
		}
		img, err := s.loadOCIImage(ctx, a, desc, tags)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", desc.Digest, err)
		}
		res = append(res, LoadResult{Image: img, Tags: tags})
	}
	return res, nil
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// readVerifiedBlob reads a blob of the layout and checks its digest.
func readVerifiedBlob(a archiveReader, h v1.Hash) ([]byte, error) {
	data, err := readAll(a, blobName(h))
	if err != nil {
		return nil, err
	}
	got, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if got != h {
		return nil, fmt.Errorf("%w: blob %s has digest %s", ErrDigestMismatch, h, got)
	}
	return data, nil
}

// resolveOCIManifest follows nested indexes to the image for this
// machine.
func (s *Store) resolveOCIManifest(a archiveReader, d v1.Descriptor) (v1.Descriptor, error) {
	for depth := 0; d.MediaType.IsIndex(); depth++ {
		if depth > 4 {
			return v1.Descriptor{}, errors.New("indexes nested too deeply")
		}
		data, err := readVerifiedBlob(a, d.Digest)
		if err != nil {
			return v1.Descriptor{}, err
		}
		im, err := v1.ParseIndexManifest(bytes.NewReader(data))
		if err != nil {
			return v1.Descriptor{}, err
		}
		if d, err = selectManifest(im, HostPlatform()); err != nil {
			return v1.Descriptor{}, err
		}
	}
	return d, nil
}

func (s *Store) loadOCIImage(ctx context.Context, a archiveReader, desc v1.Descriptor, tags []string) (*Image, error) {
	rawManifest, err := readVerifiedBlob(a, desc.Digest)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	config, err := readVerifiedBlob(a, m.Config.Digest)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("config lists %d layers, the manifest %d", len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	var layers []overlay.Layer
	for i, l := range m.Layers {
		if !layerMediaTypes[l.MediaType] {
			return nil, fmt.Errorf("%w: layer %s has media type %s", ErrUnsupportedMediaType, l.Digest, l.MediaType)
		}
		if layer, err := s.Layers.Get(cfg.RootFS.DiffIDs[i].String()); err == nil && s.hasBlob(l.Digest.String()) {
			layers = append(layers, layer)
			continue
		}
		_, layer, err := s.loadLayer(ctx, a, blobName(l.Digest), l, cfg.RootFS.DiffIDs[i].String())
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		layers = append(layers, layer)
	}
	return s.commitImage(ctx, newImage{config: config, manifest: rawManifest, layers: m.Layers, diffIDs: layers, tags: tags})
}
