package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

var saveCommand = &cli.Command{
	Name:      "save",
	Usage:     "write images to a tar archive (docker-archive or OCI image layout)",
	ArgsUsage: "IMAGE [IMAGE...]",
	Description: `Writes a docker-archive (what docker save writes and docker load and podman
load read), an OCI image layout in a tar (oci-archive) or in a directory
(oci-dir, with --output DIR).`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE (or DIR for oci-dir) instead of standard output"},
		&cli.StringFlag{Name: "format", Value: image.FormatDockerArchive, Usage: "docker-archive, oci-archive or oci-dir"},
	},
	Action: saveAction,
}

var loadCommand = &cli.Command{
	Name:  "load",
	Usage: "load images from a docker-archive or OCI image layout",
	Description: `Reads a tar archive (plain or compressed) or a directory written by gocker
save, docker save, podman save or any tool that writes an OCI image layout.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read FILE or DIR instead of standard input"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing"},
	},
	Action: loadAction,
}

func saveAction(c *cli.Context) (retErr error) {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker save\" requires at least 1 argument: IMAGE [IMAGE...]")}
	}
	format, output := c.String("format"), c.String("output")
	switch format {
	case image.FormatDockerArchive, image.FormatOCIArchive:
	case image.FormatOCIDir:
		if output == "" {
			return &exitError{code: 125, err: errors.New("--format oci-dir needs --output DIR")}
		}
	default:
		return &exitError{code: 125, err: fmt.Errorf("invalid --format %q: use docker-archive, oci-archive or oci-dir", format)}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	images, err := saveImages(st, c.Args().Slice())
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	if format == image.FormatOCIDir {
		return st.images.Save(c.Context, nil, output, format, images)
	}
	if output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return &exitError{code: 125, err: errors.New("refusing to write an archive to a terminal: use --output FILE or redirect standard output")}
	}
	if output != "" {
		f, err := os.CreateTemp(filepath.Dir(output), ".tmp-"+filepath.Base(output)+"-")
		if err != nil {
			return err
		}
		defer func() {
			if retErr != nil {
				f.Close()
				os.Remove(f.Name())
			}
		}()
		w = f
		if err := st.images.Save(c.Context, w, "", format, images); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Chmod(f.Name(), 0o644); err != nil {
			return err
		}
		return os.Rename(f.Name(), output)
	}
	return st.images.Save(c.Context, w, "", format, images)
}

// saveImages resolves the arguments of save: a tag saves the image under
// that tag, an id under all its tags.
func saveImages(st *stores, refs []string) ([]image.SaveImage, error) {
	var out []image.SaveImage
	for _, ref := range refs {
		img, err := st.images.Get(ref)
		if err != nil {
			return nil, err
		}
		si := image.SaveImage{Image: img, Tags: img.RepoTags}
		if r, err := image.ParseReference(ref); err == nil {
			for _, t := range img.RepoTags {
				if t == r.String() {
					si.Tags = []string{t}
				}
			}
		}
		out = append(out, si)
	}
	return out, nil
}

func loadAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return &exitError{code: 125, err: errors.New("\"gocker load\" accepts no arguments: use --input FILE")}
	}
	src := c.String("input")
	if src == "" && term.IsTerminal(int(os.Stdin.Fd())) {
		return &exitError{code: 125, err: errors.New("no archive: give --input FILE or redirect standard input")}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	res, err := st.images.Load(c.Context, src, os.Stdin)
	if err != nil {
		return err
	}
	if c.Bool("quiet") {
		return nil
	}
	for _, r := range res {
		if len(r.Tags) == 0 {
			fmt.Fprintf(c.App.Writer, "Loaded image ID: %s\n", r.Image.ID)
		}
		for _, t := range r.Tags {
			repo, tag := image.SplitTag(t)
			fmt.Fprintf(c.App.Writer, "Loaded image: %s:%s\n", image.FamiliarRepository(repo), tag)
		}
	}
	return nil
}
