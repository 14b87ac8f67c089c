package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrInUse means containers use the image.
var ErrInUse = errors.New("image is in use")

// RemoveOptions configures [Store.Remove].
type RemoveOptions struct {
	// Force removes an image that has several tags when it is named by
	// id. An image that stopped containers use is only untagged, as in
	// Docker, and stays without tags for the containers.
	Force bool
	// UsedBy returns the names of the containers created from an image id.
	UsedBy func(imageID string) []string
	// RunningUsers returns the names of the running containers created
	// from an image id; Force does not remove an image they use, as in
	// Docker.
	RunningUsers func(imageID string) []string
	// UsedLayers returns the layers that containers mount; they are kept
	// even when no image refers to them any more. It is called with the
	// layer lock held, so no container can be created meanwhile.
	UsedLayers func() (map[string]bool, error)
}

// RemoveResult lists what Remove did, as docker rmi prints it.
type RemoveResult struct {
	Untagged []string
	Deleted  []string
}

// Remove untags or deletes the image ref, as docker rmi does. A tag of an
// image with other tags is only untagged, and so is an image that stopped
// containers use when opts.Force is set. Otherwise the image is deleted
// with the layers that nothing else uses.
func (s *Store) Remove(ctx context.Context, ref string, opts RemoveOptions) (RemoveResult, error) {
	var res RemoveResult
	var deleted *Image
	err := s.updateIndex(ctx, func(idx *index) error {
		img, err := idx.find(ref)
		if err != nil {
			return err
		}
		tag := matchingTag(img, ref)
		if tag != "" && len(img.RepoTags) > 1 {
			img.RepoTags = without(img.RepoTags, tag)
			res.Untagged = append(res.Untagged, tag)
			return nil
		}
		if err := checkRemovable(img, tag, opts); err != nil {
			return err
		}
		if users := usedBy(img, opts); len(users) > 0 {
			if len(img.RepoTags) == 0 {
				return untaggedInUseError(img, users)
			}
			res.Untagged = append(res.Untagged, img.RepoTags...)
			img.RepoTags = nil
			return nil
		}
		res.Untagged = append(res.Untagged, img.RepoTags...)
		idx.Images = removeImage(idx.Images, img.ID)
		deleted = img
		return nil
	})
	if err != nil || deleted == nil {
		return res, err
	}
	_ = os.Remove(s.blobPath(deleted.ID))
	res.Deleted = append(res.Deleted, deleted.ID)
	removed, err := s.removeUnusedLayers(ctx, opts.UsedLayers)
	res.Deleted = append(res.Deleted, removed...)
	return res, err
}

func matchingTag(img *Image, ref string) string {
	r, err := ParseReference(ref)
	if err != nil {
		return ""
	}
	for _, t := range img.RepoTags {
		if t == r.String() {
			return t
		}
	}
	return ""
}

func checkRemovable(img *Image, tag string, opts RemoveOptions) error {
	if opts.RunningUsers != nil {
		if users := opts.RunningUsers(img.ID); len(users) > 0 {
			return fmt.Errorf("%w: image %s is used by running container %s: stop and remove the container first",
				ErrInUse, ShortID(img.ID), strings.Join(users, ", "))
		}
	}
	if opts.Force {
		return nil
	}
	if tag == "" && len(img.RepoTags) > 1 {
		return fmt.Errorf("image %s has %d tags (%s): remove them one by one, or use --force",
			ShortID(img.ID), len(img.RepoTags), strings.Join(img.RepoTags, ", "))
	}
	if users := usedBy(img, opts); len(users) > 0 {
		if len(img.RepoTags) == 0 {
			return untaggedInUseError(img, users)
		}
		return fmt.Errorf("%w: image %s is used by container %s: remove the container first (gocker rm %s), or use --force to untag it",
			ErrInUse, ShortID(img.ID), strings.Join(users, ", "), strings.Join(users, " "))
	}
	return nil
}

// untaggedInUseError is the error for an image without tags that stopped
// containers use. --force only untags, so removing the containers is the
// only way to remove the image.
func untaggedInUseError(img *Image, users []string) error {
	return fmt.Errorf("%w: image %s has no tags and is used by container %s: remove the container first (gocker rm %s)",
		ErrInUse, ShortID(img.ID), strings.Join(users, ", "), strings.Join(users, " "))
}

func usedBy(img *Image, opts RemoveOptions) []string {
	if opts.UsedBy == nil {
		return nil
	}
	return opts.UsedBy(img.ID)
}

func removeImage(list []*Image, id string) []*Image {
	out := list[:0]
	for _, img := range list {
		if img.ID != id {
			out = append(out, img)
		}
	}
	return out
}

// removeUnusedLayers deletes layers that no image and no container uses,
// and the leftovers of killed extractions. It waits for extractions in
// progress, which hold the shared lock.
func (s *Store) removeUnusedLayers(ctx context.Context, usedByContainers func() (map[string]bool, error)) ([]string, error) {
	lock, err := s.Layers.LockExclusive(ctx)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	used := map[string]bool{}
	if usedByContainers != nil {
		if used, err = usedByContainers(); err != nil {
			return nil, err
		}
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	for _, img := range idx.Images {
		for _, l := range img.Layers {
			used[l] = true
		}
	}
	layers, err := s.Layers.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, l := range layers {
		if used[l.DiffID] {
			continue
		}
		if err := s.Layers.Remove(ctx, l.DiffID); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, l.DiffID)
	}
	errs = append(errs, s.Layers.RemoveLeftovers(ctx), s.removeUnusedBlobs(idx))
	return removed, errors.Join(errs...)
}

// removeUnusedBlobs deletes the blobs that no image's config or manifest
// refers to, and the temporary files of killed writers. The caller holds
// the exclusive layer lock, under which no blob is being written.
func (s *Store) removeUnusedBlobs(idx *index) error {
	used := map[string]bool{}
	for _, img := range idx.Images {
		used[img.ID], used[img.Manifest] = true, true
		if m, _, err := s.Manifest(img); err == nil {
			for _, l := range m.Layers {
				used[l.Digest.String()] = true
			}
		}
	}
	entries, err := os.ReadDir(s.blobsDir())
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if used["sha256:"+e.Name()] {
			continue
		}
		if err := os.Remove(filepath.Join(s.blobsDir(), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
