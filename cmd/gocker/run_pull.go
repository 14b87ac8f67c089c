package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gocker/gocker/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

// Values of run's --pull.
const (
	pullMissing = "missing"
	pullAlways  = "always"
	pullNever   = "never"
)

// ensureImage pulls the image of gocker run as --pull asks: when it is not
// stored (as Docker does, after "Unable to find image ... locally"), always,
// or never. With --platform, a stored image for another platform counts as
// missing, and --pull never rejects it. Progress goes to stderr, so that
// stdout is the container's.
func ensureImage(c *cli.Context, st *stores, name string) error {
	policy := c.String("pull")
	switch policy {
	case pullMissing, pullAlways, pullNever:
	default:
		return &exitError{code: 125, err: fmt.Errorf("invalid --pull %q: use missing, always or never", policy)}
	}
	platform, err := parsePlatform(c)
	if err != nil {
		return err
	}
	if policy != pullAlways {
		found, err := storedImageMatches(st, name, platform)
		var mismatch *platformMismatchError
		switch {
		case found:
			return nil
		case err != nil && (policy == pullNever || !errors.As(err, &mismatch)):
			return &exitError{code: 125, err: err}
		case err == nil && policy == pullNever:
			// A missing image fails later with its own message.
			return nil
		}
	}
	ref, err := image.ParseReference(name)
	if err != nil {
		return err
	}
	if policy == pullMissing {
		fmt.Fprintf(os.Stderr, "Unable to find image '%s' locally\n", name)
	}
	_, err = pullImage(c, st, pullRequest{ref: ref, platform: platform, out: os.Stderr})
	return err
}

// platformMismatchError means the stored image is for another platform
// than --platform requests.
type platformMismatchError struct {
	name       string
	want, have v1.Platform
}

func (e *platformMismatchError) Error() string {
	want := image.PlatformString(e.want)
	return fmt.Sprintf("image %s is %s, not the requested %s: pull %s with \"gocker pull --platform %s %s\", or leave out --platform",
		e.name, image.PlatformString(e.have), want, want, want, e.name)
}

// storedImageMatches reports whether name is stored for platform (for any
// platform when it is nil). A stored image for another platform returns
// false and a *platformMismatchError.
func storedImageMatches(st *stores, name string, platform *v1.Platform) (bool, error) {
	img, err := st.images.Get(name)
	if errors.Is(err, image.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if platform == nil {
		return true, nil
	}
	have, err := st.images.Platform(img)
	if err != nil {
		return false, err
	}
	if !image.PlatformMatches(*platform, have) {
		return false, &platformMismatchError{name: name, want: *platform, have: have}
	}
	return true, nil
}
