package main

import (
	"errors"
	"fmt"

	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var pushCommand = &cli.Command{
	Name:      "push",
	Usage:     "upload an image to a registry",
	ArgsUsage: "NAME[:TAG]",
	Description: `Uploads the image's layer blobs, config and manifest as stored, so the image
keeps its id and digests. Blobs the registry has are not sent again.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the digest line"},
		insecureRegistryFlag(),
	},
	Action: pushAction,
}

func pushAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: 125, err: errors.New("\"gocker push\" requires exactly 1 argument: NAME[:TAG]")}
	}
	ref, err := image.ParseReference(c.Args().First())
	if err != nil {
		return err
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	regOpts, err := registryOptions(c)
	if err != nil {
		return err
	}
	opts := image.PushOptions{Registry: regOpts}
	var pp *progressPrinter
	if !c.Bool("quiet") {
		fmt.Fprintf(c.App.Writer, "The push refers to repository [%s]\n", ref.Repository())
		pp = newProgressPrinter(c.App.Writer, isTerminal(c.App.Writer))
		opts.Progress = pp.update
	}
	digest, err := st.images.Push(c.Context, ref, opts)
	if pp != nil {
		pp.finish()
	}
	if err != nil {
		return err
	}
	img, err := st.images.Get(ref.String())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: digest: %s size: %d\n", ref.Tag(), digest, manifestSize(st, img))
	return nil
}

func manifestSize(st *stores, img *image.Image) int {
	_, raw, err := st.images.Manifest(img)
	if err != nil {
		return 0
	}
	return len(raw)
}
