package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/gocker/gocker/image"
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
// or never. Progress goes to stderr, so that stdout is the container's.
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
	if policy == pullNever {
		return nil
	}
	if policy == pullMissing {
		_, err := st.images.Get(name)
		if !errors.Is(err, image.ErrNotFound) {
			return err
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
