package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gocker/gocker/internal/atomicfile"
	"github.com/gocker/gocker/internal/lockfile"
	"github.com/gocker/gocker/overlay"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Image is one entry of the image index.
type Image struct {
	// ID is "sha256:HEX" of the image's config, as Docker's image ids are.
	ID string `json:"id"`
	// RepoTags are canonical references such as
	// "docker.io/library/alpine:latest".
	RepoTags []string `json:"repo_tags,omitempty"`
	// Layers are the diff ids of the image's layers, bottom first.
	Layers  []string  `json:"layers"`
	Created time.Time `json:"created"`
	// Size is the total length of the uncompressed layers in bytes.
	Size int64 `json:"size"`
	// Manifest is the digest of the image's manifest blob: the one a
	// registry served for a pulled image, or the one gocker wrote.
	Manifest string `json:"manifest,omitempty"`
	// RepoDigests are canonical "repository@sha256:HEX" references of
	// the manifest in registries it was pulled from or pushed to.
	RepoDigests []string `json:"repo_digests,omitempty"`
}

type index struct {
	Images []*Image `json:"images"`
}

// Store is the image index and the blobs it refers to; the package
// documentation describes the layout.
type Store struct {
	root   string
	Layers *overlay.LayerStore
}

// ErrNotFound means no image matches the reference or id.
var ErrNotFound = errors.New("no such image")

// OpenStore opens the image store under root, creating it.
func OpenStore(root string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(root, "blobs", "sha256"), 0o700); err != nil {
		return nil, fmt.Errorf("create image store: %w", err)
	}
	layers, err := overlay.OpenLayerStore(root)
	if err != nil {
		return nil, err
	}
	return &Store{root: root, Layers: layers}, nil
}

func (s *Store) indexPath() string { return filepath.Join(s.root, "images.json") }

func (s *Store) readIndex() (*index, error) {
	var idx index
	err := atomicfile.ReadJSON(s.indexPath(), &idx)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return &idx, nil
}

// updateIndex rewrites the index under its lock with fn's changes.
func (s *Store) updateIndex(ctx context.Context, fn func(*index) error) error {
	lock, err := lockfile.Exclusive(ctx, filepath.Join(s.root, "images.lock"))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := fn(idx); err != nil {
		return err
	}
	return atomicfile.WriteJSON(s.indexPath(), idx, 0o600)
}

// List returns every image, newest first.
func (s *Store) List() ([]*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(idx.Images, func(i, j int) bool { return idx.Images[i].Created.After(idx.Images[j].Created) })
	return idx.Images, nil
}

// Get finds an image by reference ("alpine", "alpine:3.20"), by id
// ("sha256:HEX") or by a unique prefix of the id's hex digits.
func (s *Store) Get(ref string) (*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	return idx.find(ref)
}

func (idx *index) find(ref string) (*Image, error) {
	if img := idx.byID(ref); img != nil {
		return img, nil
	}
	if r, err := ParseReference(ref); err == nil {
		for _, img := range idx.Images {
			for _, t := range img.RepoTags {
				if t == r.String() {
					return img, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
}

// byID matches a full id or a hex prefix of at least 4 digits.
func (idx *index) byID(ref string) *Image {
	hexPart := strings.TrimPrefix(ref, "sha256:")
	if len(hexPart) < 4 || strings.Trim(hexPart, "0123456789abcdef") != "" {
		return nil
	}
	var match *Image
	for _, img := range idx.Images {
		if strings.HasPrefix(strings.TrimPrefix(img.ID, "sha256:"), hexPart) {
			if match != nil {
				return nil
			}
			match = img
		}
	}
	return match
}

// Config reads an image's config.
func (s *Store) Config(img *Image) (*v1.ConfigFile, error) {
	data, err := os.ReadFile(s.blobPath(img.ID))
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w", ShortID(img.ID), err)
	}
	return v1.ParseConfigFile(bytes.NewReader(data))
}

// add puts img in the index with the canonical tags and repository
// digests, moving each tag from any image that had it, as docker tag
// does. Adding an image that exists merges the tags and digests.
func (s *Store) add(ctx context.Context, img *Image, tags []string, repoDigests []string) error {
	return s.updateIndex(ctx, func(idx *index) error {
		for _, tag := range tags {
			for _, other := range idx.Images {
				other.RepoTags = without(other.RepoTags, tag)
			}
		}
		target := img
		if existing := idx.byID(img.ID); existing != nil && existing.ID == img.ID {
			target = existing
			if target.Manifest == "" {
				target.Manifest = img.Manifest
			}
		} else {
			img.RepoTags, img.RepoDigests = nil, nil
			idx.Images = append(idx.Images, img)
		}
		target.RepoTags = appendNew(target.RepoTags, tags...)
		target.RepoDigests = appendNew(target.RepoDigests, repoDigests...)
		*img = *target
		return nil
	})
}

// Tag gives the image source the canonical tag target, moving it from any
// image that had it.
func (s *Store) Tag(ctx context.Context, source string, target Reference) (*Image, error) {
	if target.Digest() != "" {
		return nil, fmt.Errorf("invalid tag %s: give NAME[:TAG], not a digest", target)
	}
	img, err := s.Get(source)
	if err != nil {
		return nil, err
	}
	return img, s.add(ctx, img, []string{target.String()}, nil)
}

func appendNew(list []string, items ...string) []string {
	for _, item := range items {
		if item != "" && !slices.Contains(list, item) {
			list = append(list, item)
		}
	}
	return list
}

func without(list []string, item string) []string {
	out := list[:0:0]
	for _, v := range list {
		if v != item {
			out = append(out, v)
		}
	}
	return out
}

// ShortID returns the 12 hex digits Docker prints for an image id.
func ShortID(id string) string {
	hexPart := strings.TrimPrefix(id, "sha256:")
	if len(hexPart) > 12 {
		return hexPart[:12]
	}
	return hexPart
}
