package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gocker/gocker/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

func imageChangeFlags() []cli.Flag {
	return []cli.Flag{
		newListFlag("change", "c", "apply a Dockerfile instruction to the image config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR"),
		&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message recorded in the image's history"},
	}
}

var importCommand = &cli.Command{
	Name:      "import",
	Usage:     "create an image from a root filesystem tarball (plain, gzip, zstd, xz or bzip2)",
	ArgsUsage: "FILE|- NAME[:TAG]",
	Flags:     imageChangeFlags(),
	Action:    importAction,
}

var initCommand = &cli.Command{
	Name:      "init",
	Usage:     "create an image from a directory that contains a root filesystem",
	ArgsUsage: "DIR NAME[:TAG]",
	Flags:     imageChangeFlags(),
	Action:    initAction,
}

func importArgs(c *cli.Context, what string) (string, image.Reference, error) {
	if c.NArg() != 2 {
		return "", image.Reference{}, &exitError{code: 125, err: fmt.Errorf("\"gocker %s\" requires exactly 2 arguments: %s (flags go before the arguments)", c.Command.Name, what)}
	}
	ref, err := image.ParseReference(c.Args().Get(1))
	if err != nil {
		return "", image.Reference{}, err
	}
	if ref.Digest() != "" {
		return "", image.Reference{}, fmt.Errorf("invalid name %q: give NAME[:TAG], not a digest", c.Args().Get(1))
	}
	return c.Args().Get(0), ref, nil
}

// importOptions reads the flags shared by import and init, and checks the
// --change instructions before any layer is extracted.
func importOptions(c *cli.Context, createdBy string) (image.ImportOptions, error) {
	opts := image.ImportOptions{Changes: c.StringSlice("change"), Message: c.String("message"), CreatedBy: createdBy}
	var scratch v1.Config
	return opts, image.ApplyChanges(&scratch, opts.Changes)
}

func importAction(c *cli.Context) error {
	src, ref, err := importArgs(c, "FILE|- NAME[:TAG]")
	if err != nil {
		return err
	}
	opts, err := importOptions(c, "gocker import "+src)
	if err != nil {
		return err
	}
	var r io.Reader = os.Stdin
	if src != "-" {
		f, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("open tarball: %w", err)
		}
		defer f.Close()
		r = f
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	img, err := st.images.Import(c.Context, r, ref, opts)
	if err != nil {
		return fmt.Errorf("import %s: %w", src, err)
	}
	fmt.Fprintln(c.App.Writer, img.ID)
	return nil
}

func initAction(c *cli.Context) error {
	dir, ref, err := importArgs(c, "DIR NAME[:TAG]")
	if err != nil {
		return err
	}
	opts, err := importOptions(c, "gocker init "+dir)
	if err != nil {
		return err
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	img, err := st.images.Init(c.Context, dir, ref, opts)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: give an existing directory", err)
		}
		return err
	}
	fmt.Fprintln(c.App.Writer, img.ID)
	return nil
}
