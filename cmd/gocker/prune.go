package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var containerCommand = &cli.Command{
	Name:  "container",
	Usage: "manage containers",
	Subcommands: []*cli.Command{
		{
			Name:        "prune",
			Usage:       "remove all stopped containers",
			Description: `Removes every container that is not running, after asking unless --force.`,
			Flags:       []cli.Flag{pruneForceFlag()},
			Action:      containerPruneAction,
		},
	},
}

var imagePruneCommand = &cli.Command{
	Name:  "prune",
	Usage: "remove images that no container uses",
	Description: `Removes dangling images (those without tags) that no container uses, or
with --all every image that no container uses, after asking unless
--force. Layers that no image or container uses go with them.`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every image that no container uses, not only dangling ones"},
		pruneForceFlag(),
	},
	Action: imagePruneAction,
}

var systemCommand = &cli.Command{
	Name:  "system",
	Usage: "manage gocker's store",
	Subcommands: []*cli.Command{
		{
			Name:  "prune",
			Usage: "remove stopped containers and unused images",
			Description: `Removes every stopped container, then the images that no container uses:
dangling ones, or with --all every one. Asks first unless --force.`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every image that no container uses, not only dangling ones"},
				pruneForceFlag(),
			},
			Action: systemPruneAction,
		},
	},
}

func pruneForceFlag() cli.Flag {
	return &cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"}
}

func containerPruneAction(c *cli.Context) error {
	return runPrune(c, "container prune", "This will remove all stopped containers.", func(st *stores) (int64, error) {
		return pruneContainers(c, st)
	})
}

func imagePruneAction(c *cli.Context) error {
	warning := "This will remove all dangling images."
	if c.Bool("all") {
		warning = "This will remove all images without at least one container associated to them."
	}
	return runPrune(c, "image prune", warning, func(st *stores) (int64, error) {
		return pruneImages(c, st, c.Bool("all"))
	})
}

func systemPruneAction(c *cli.Context) error {
	images := "all dangling images"
	if c.Bool("all") {
		images = "all images without at least one container associated to them"
	}
	warning := "This will remove:\n  - all stopped containers\n  - " + images
	return runPrune(c, "system prune", warning, func(st *stores) (int64, error) {
		containerSize, err := pruneContainers(c, st)
		if err != nil {
			return containerSize, err
		}
		imageSize, err := pruneImages(c, st, c.Bool("all"))
		return containerSize + imageSize, err
	})
}

// runPrune checks that command has no arguments, asks for confirmation
// with warning, runs prune on the stores and prints the space it reclaimed.
func runPrune(c *cli.Context, command, warning string, prune func(*stores) (int64, error)) error {
	if err := noArgs(c, command); err != nil {
		return err
	}
	if !confirm(c, warning) {
		return nil
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	size, err := prune(st)
	fmt.Fprintf(c.App.Writer, "Total reclaimed space: %s\n", humanSize(size))
	return err
}

func noArgs(c *cli.Context, command string) error {
	if c.NArg() > 0 {
		return &exitError{code: 125, err: fmt.Errorf("\"gocker %s\" accepts no arguments, got %q", command, c.Args().First())}
	}
	return nil
}

// confirm prints Docker's warning and question, and reports whether the
// answer on standard input is yes. --force skips the question; an empty
// answer or the end of input means no.
func confirm(c *cli.Context, warning string) bool {
	if c.Bool("force") {
		return true
	}
	fmt.Fprintf(c.App.Writer, "WARNING! %s\nAre you sure you want to continue? [y/N] ", warning)
	line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		fmt.Fprintln(c.App.Writer)
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// pruneContainers removes every container that does not run, prints their
// ids and returns the bytes their files took.
func pruneContainers(c *cli.Context, st *stores) (int64, error) {
	list, err := st.containers.List()
	if err != nil {
		return 0, err
	}
	var removed []string
	var size int64
	var errs []error
	for _, ctr := range list {
		if ctr.State.Status == container.StatusRunning || ctr.State.Status == container.StatusRestarting {
			continue
		}
		ctrSize := dirSize(st.containers.Dir(ctr.ID))
		// A container that started meanwhile fails here, and stays.
		if err := st.containers.Remove(c.Context, ctr); err != nil {
			if !errors.Is(err, container.ErrRunning) {
				errs = append(errs, err)
			}
			continue
		}
		removed = append(removed, ctr.ID)
		size += ctrSize
	}
	if len(removed) > 0 {
		fmt.Fprintf(c.App.Writer, "Deleted Containers:\n%s\n\n", strings.Join(removed, "\n"))
	}
	if _, err := st.containers.PruneNames(); err != nil {
		errs = append(errs, err)
	}
	return size, errors.Join(errs...)
}

// pruneImages removes the images that no container uses: those without
// tags, or every one with all. It prints what it untagged and deleted, as
// docker image prune does, and returns the size of the deleted layers.
func pruneImages(c *cli.Context, st *stores, all bool) (int64, error) {
	images, err := st.images.List()
	if err != nil {
		return 0, err
	}
	layers, err := st.images.Layers.List()
	if err != nil {
		return 0, err
	}
	layerSize := make(map[string]int64, len(layers))
	for _, l := range layers {
		layerSize[l.DiffID] = l.Size
	}

	opts := image.RemoveOptions{
		Force:        true,
		UsedBy:       func(id string) []string { return containersUsing(st, id, false) },
		RunningUsers: func(id string) []string { return containersUsing(st, id, true) },
		UsedLayers:   func() (map[string]bool, error) { return layersInUse(st) },
	}
	var lines []string
	var size int64
	var errs []error
	for _, img := range images {
		if (!all && len(img.RepoTags) > 0) || len(containersUsing(st, img.ID, false)) > 0 {
			continue
		}
		res, err := st.images.Remove(c.Context, img.ID, opts)
		for _, t := range res.Untagged {
			lines = append(lines, "untagged: "+familiarTag(t))
		}
		for _, d := range res.Deleted {
			lines = append(lines, "deleted: "+d)
			size += layerSize[d]
		}
		// An image that a container created meanwhile stays.
		if err != nil && !errors.Is(err, image.ErrInUse) {
			errs = append(errs, err)
		}
	}

	if len(lines) > 0 {
		fmt.Fprintf(c.App.Writer, "Deleted Images:\n%s\n\n", strings.Join(lines, "\n"))
	}
	return size, errors.Join(errs...)
}

// dirSize adds up the sizes of the regular files under dir that the caller
// can list. Directories of other owners in a rootless container's upper
// directory may not be readable, so the sum can fall short.
func dirSize(dir string) int64 {
	var size int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	return size
}
