package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Archive formats of [Store.Save] and [Store.Load].
const (
	// FormatDockerArchive is docker save's tar: manifest.json,
	// repositories, HEX.json configs and HEX/layer.tar layers.
	FormatDockerArchive = "docker-archive"
	// FormatOCIArchive is an OCI image layout in a tar.
	FormatOCIArchive = "oci-archive"
	// FormatOCIDir is an OCI image layout in a directory.
	FormatOCIDir = "oci-dir"
)

// Annotations naming an image in an OCI image layout's index: containerd
// and Docker write the full reference in the first, the OCI image spec
// defines the second (Podman writes the full reference there too).
const (
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// SaveImage is an image to save and the name it is saved under.
type SaveImage struct {
	Image *Image
	// Tags are canonical references; empty saves the image untagged.
	Tags []string
}

// archiveWriter receives the files of an archive.
type archiveWriter interface {
	writeFile(name string, size int64, r io.Reader) error
}

// tarArchiveWriter writes the files into a tar stream.
type tarArchiveWriter struct {
	tw   *tar.Writer
	dirs map[string]bool
}

func (t *tarArchiveWriter) writeFile(name string, size int64, r io.Reader) error {
	if dir := filepath.Dir(name); dir != "." && !t.dirs[dir] {
		t.dirs[dir] = true
		if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := io.Copy(t.tw, r)
	return err
}

// dirArchiveWriter writes the files below a directory.
type dirArchiveWriter string

func (d dirArchiveWriter) writeFile(name string, _ int64, r io.Reader) error {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Save writes images in format to w (a tar), or for [FormatOCIDir] into
// the directory dir.
func (s *Store) Save(ctx context.Context, w io.Writer, dir string, format string, images []SaveImage) error {
	var aw archiveWriter
	var tw *tar.Writer
	if format == FormatOCIDir {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		aw = dirArchiveWriter(dir)
	} else {
		tw = tar.NewWriter(w)
		aw = &tarArchiveWriter{tw: tw, dirs: map[string]bool{}}
	}
	var err error
	switch format {
	case FormatDockerArchive:
		err = s.saveDocker(ctx, aw, images)
	case FormatOCIArchive, FormatOCIDir:
		err = s.saveOCI(ctx, aw, images)
	default:
		err = fmt.Errorf("invalid format %q: use %s, %s or %s", format, FormatDockerArchive, FormatOCIArchive, FormatOCIDir)
	}
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if tw != nil {
		return tw.Close()
	}
	return nil
}

// dockerManifestEntry is one image of a docker-archive's manifest.json.
type dockerManifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// saveDocker writes the docker-archive format, with uncompressed layers
// as docker save writes them, so every reader of the format takes them.
func (s *Store) saveDocker(ctx context.Context, aw archiveWriter, images []SaveImage) error {
	var entries []dockerManifestEntry
	repositories := map[string]map[string]string{}
	written := map[string]bool{}
	for _, si := range images {
		img := si.Image
		stored, err := s.storedImage(img)
		if err != nil {
			return err
		}
		cfgName := strings.TrimPrefix(img.ID, "sha256:") + ".json"
		if !written[cfgName] {
			if err := aw.writeFile(cfgName, int64(len(stored.rawConfig)), strings.NewReader(string(stored.rawConfig))); err != nil {
				return err
			}
			written[cfgName] = true
		}
		entry := dockerManifestEntry{Config: cfgName, RepoTags: []string{}}
		for i, desc := range stored.manifest.Layers {
			key := strings.TrimPrefix(img.Layers[i], "sha256:")
			name := key + "/layer.tar"
			entry.Layers = append(entry.Layers, name)
			if written[name] {
				continue
			}
			if err := s.writeUncompressedLayer(ctx, aw, name, desc, img.Layers[i]); err != nil {
				return err
			}
			written[name] = true
		}
		for _, t := range si.Tags {
			repo, tag := SplitTag(t)
			familiar := FamiliarRepository(repo)
			entry.RepoTags = append(entry.RepoTags, familiar+":"+tag)
			if repositories[familiar] == nil {
				repositories[familiar] = map[string]string{}
			}
			repositories[familiar][tag] = strings.TrimPrefix(img.Layers[len(img.Layers)-1], "sha256:")
		}
		entries = append(entries, entry)
	}
	if err := writeJSONFile(aw, "manifest.json", entries); err != nil {
		return err
	}
	return writeJSONFile(aw, "repositories", repositories)
}

// writeUncompressedLayer writes a layer blob decompressed; its length is
// the stored layer's size.
func (s *Store) writeUncompressedLayer(ctx context.Context, aw archiveWriter, name string, desc v1.Descriptor, diffID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	layer, err := s.Layers.Get(diffID)
	if err != nil {
		return err
	}
	f, err := s.openBlob(desc.Digest.String())
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := Decompress(f)
	if err != nil {
		return err
	}
	defer r.Close()
	return aw.writeFile(name, layer.Size, r)
}

// saveOCI writes an OCI image layout: the stored blobs as they are and an
// index naming each image.
func (s *Store) saveOCI(ctx context.Context, aw archiveWriter, images []SaveImage) error {
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	written := map[string]bool{}
	for _, si := range images {
		if err := ctx.Err(); err != nil {
			return err
		}
		img := si.Image
		stored, err := s.storedImage(img)
		if err != nil {
			return err
		}
		blobs := []string{img.ID, img.Manifest}
		for _, l := range stored.manifest.Layers {
			blobs = append(blobs, l.Digest.String())
		}
		for _, digest := range blobs {
			if written[digest] {
				continue
			}
			if err := s.copyBlobTo(aw, digest); err != nil {
				return err
			}
			written[digest] = true
		}
		mediaType, _ := stored.MediaType()
		desc := v1.Descriptor{MediaType: mediaType, Digest: mustHash(img.Manifest), Size: int64(len(stored.rawManifest))}
		if len(si.Tags) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, t := range si.Tags {
			_, tag := SplitTag(t)
			d := desc
			d.Annotations = map[string]string{annotationImageName: t, annotationRefName: tag}
			index.Manifests = append(index.Manifests, d)
		}
	}
	layout := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := aw.writeFile("oci-layout", int64(len(layout)), strings.NewReader(string(layout))); err != nil {
		return err
	}
	return writeJSONFile(aw, "index.json", index)
}

func (s *Store) copyBlobTo(aw archiveWriter, digest string) error {
	f, err := s.openBlob(digest)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return aw.writeFile("blobs/sha256/"+strings.TrimPrefix(digest, "sha256:"), st.Size(), f)
}

func writeJSONFile(aw archiveWriter, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return aw.writeFile(name, int64(len(data)), strings.NewReader(string(data)))
}
