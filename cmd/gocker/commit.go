package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gocker/gocker/image"
	"github.com/gocker/gocker/netstack"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

var commitCommand = &cli.Command{
	Name:      "commit",
	Usage:     "create an image from a container's changes",
	ArgsUsage: "CONTAINER [NAME[:TAG]]",
	Description: `Makes a new layer of the files the container changed, on top of its image's
layers. The container's command, entrypoint, environment, user and working
directory become the image's, then --change applies. /etc/hosts,
/etc/hostname and /etc/resolv.conf, which gocker mounts into every
container, are left out. The container may be running.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message recorded in the image's history"},
		&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: "author recorded in the image (e.g. \"Jane <jane@example.com>\")"},
		newListFlag("change", "c", "apply a Dockerfile instruction to the image config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR"),
	},
	Action: commitAction,
}

// etcMountPoints returns the files that gocker mounts into every
// container, relative to the root. Their mount points in the upper
// directory are no change of the container's.
func etcMountPoints() []string {
	paths := make([]string, 0, len(netstack.EtcPaths))
	for _, p := range netstack.EtcPaths {
		paths = append(paths, strings.TrimPrefix(p, "/"))
	}
	return paths
}

func commitAction(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return &exitError{code: 125, err: errors.New("\"gocker commit\" requires 1 or 2 arguments: CONTAINER [NAME[:TAG]]")}
	}
	opts := image.CommitOptions{
		Exclude: etcMountPoints(),
		Changes: c.StringSlice("change"),
		Message: c.String("message"),
		Author:  c.String("author"),
	}
	var scratch v1.Config
	if err := image.ApplyChanges(&scratch, opts.Changes); err != nil {
		return err
	}
	if c.NArg() == 2 {
		ref, err := image.ParseReference(c.Args().Get(1))
		if err != nil {
			return err
		}
		if ref.Digest() != "" {
			return fmt.Errorf("invalid name %q: give NAME[:TAG], not a digest", c.Args().Get(1))
		}
		opts.Tag = &ref
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	ctr, err := st.containers.Get(c.Args().First())
	if err != nil {
		return err
	}
	base, err := st.images.Get(ctr.ImageID)
	if err != nil {
		return fmt.Errorf("image %s of container %s: %w", image.ShortID(ctr.ImageID), ctr.Name, err)
	}
	opts.Base = base
	opts.UpperDir = filepath.Join(st.containers.Dir(ctr.ID), "upper")
	opts.CreatedBy = fmt.Sprintf("gocker commit %s", ctr.Name)
	opts.Config = v1.Config{
		User:       ctr.Config.User,
		Env:        ctr.Config.Env,
		Cmd:        ctr.Config.Cmd,
		Entrypoint: ctr.Config.Entrypoint,
		WorkingDir: ctr.Config.WorkingDir,
	}
	img, err := st.images.Commit(c.Context, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, img.ID)
	return nil
}
