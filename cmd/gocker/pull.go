package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gocker/gocker/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var pullCommand = &cli.Command{
	Name:      "pull",
	Usage:     "download an image from a registry",
	ArgsUsage: "NAME[:TAG|@DIGEST]",
	Description: `Downloads the image and the layers the store lacks, checks every digest and
extracts the layers, several at once. NAME without a registry is on Docker
Hub. Credentials come from Docker's config file (see "gocker login").`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "platform", Usage: "image of a multi-platform image to pull: os/arch[/variant] (default: this machine's)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image reference"},
		insecureRegistryFlag(),
	},
	Action: pullAction,
}

// pullRequest is one image to pull and how to show it.
type pullRequest struct {
	ref      image.Reference
	platform *v1.Platform
	quiet    bool
	out      io.Writer // where progress and the summary go
}

func parsePlatform(c *cli.Context) (*v1.Platform, error) {
	if !flagGiven(c, "platform") {
		return nil, nil
	}
	p, err := image.ParsePlatform(c.String("platform"))
	if err != nil {
		return nil, &exitError{code: 125, err: err}
	}
	return &p, nil
}

func pullAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: 125, err: errors.New("\"gocker pull\" requires exactly 1 argument: NAME[:TAG|@DIGEST]")}
	}
	ref, err := image.ParseReference(c.Args().First())
	if err != nil {
		return err
	}
	platform, err := parsePlatform(c)
	if err != nil {
		return err
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	_, err = pullImage(c, st, pullRequest{ref: ref, platform: platform, quiet: c.Bool("quiet"), out: c.App.Writer})
	return err
}

// pullImage pulls req.ref with Docker's messages and a progress display.
func pullImage(c *cli.Context, st *stores, req pullRequest) (*image.Image, error) {
	regOpts, err := registryOptions(c)
	if err != nil {
		return nil, err
	}
	opts := image.PullOptions{
		Registry:   regOpts,
		Platform:   req.platform,
		UsedLayers: func() (map[string]bool, error) { return layersInUse(st) },
	}
	var pp *progressPrinter
	if !req.quiet {
		tag := req.ref.Tag()
		if tag == "" {
			tag = req.ref.Digest()
		}
		fmt.Fprintf(req.out, "%s: Pulling from %s\n", tag, image.FamiliarRepository(req.ref.Repository()))
		pp = newProgressPrinter(req.out, isTerminal(req.out))
		opts.Progress = pp.update
	}
	before := storedImageID(st, req.ref)
	img, err := st.images.Pull(c.Context, req.ref, opts)
	if pp != nil {
		pp.finish()
	}
	if err != nil {
		return nil, err
	}
	if req.quiet {
		fmt.Fprintln(req.out, req.ref)
		return img, nil
	}
	fmt.Fprintf(req.out, "Digest: %s\n", img.Manifest)
	// As in Docker, the image is up to date only when the reference
	// named it before the pull.
	if pp.fetched || before != img.ID {
		fmt.Fprintf(req.out, "Status: Downloaded newer image for %s\n", familiarReference(req.ref))
	} else {
		fmt.Fprintf(req.out, "Status: Image is up to date for %s\n", familiarReference(req.ref))
	}
	fmt.Fprintln(req.out, req.ref)
	return img, nil
}

// storedImageID returns the id of the image that ref names in the store:
// the image with that tag, or the image pulled with that digest. It returns
// "" when there is none.
func storedImageID(st *stores, ref image.Reference) string {
	if ref.Digest() == "" {
		img, err := st.images.Get(ref.String())
		if err != nil {
			return ""
		}
		return img.ID
	}
	list, err := st.images.List()
	if err != nil {
		return ""
	}
	for _, img := range list {
		if slices.Contains(img.RepoDigests, ref.String()) {
			return img.ID
		}
	}
	return ""
}

// familiarReference returns ref as Docker prints it: alpine:latest.
func familiarReference(ref image.Reference) string {
	s := ref.String()
	return strings.TrimPrefix(strings.TrimPrefix(s, "docker.io/"), "library/")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
