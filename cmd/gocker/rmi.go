package main

import (
	"errors"
	"fmt"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var rmiCommand = &cli.Command{
	Name:      "rmi",
	Usage:     "remove images",
	ArgsUsage: "IMAGE [IMAGE...]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove an image that has several tags, and untag an image that stopped containers use without removing it (images of running containers stay)"},
	},
	Action: rmiAction,
}

func rmiAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker rmi\" requires at least 1 argument: IMAGE [IMAGE...]")}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	opts := image.RemoveOptions{
		Force:        c.Bool("force"),
		UsedBy:       func(id string) []string { return containersUsing(st, id, false) },
		RunningUsers: func(id string) []string { return containersUsing(st, id, true) },
		UsedLayers:   func() (map[string]bool, error) { return layersInUse(st) },
	}
	var errs []error
	for _, ref := range c.Args().Slice() {
		res, err := st.images.Remove(c.Context, ref, opts)
		for _, t := range res.Untagged {
			fmt.Fprintf(c.App.Writer, "Untagged: %s\n", familiarTag(t))
		}
		for _, d := range res.Deleted {
			fmt.Fprintf(c.App.Writer, "Deleted: %s\n", d)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &exitError{code: 1, err: errors.Join(errs...)}
	}
	return nil
}

// familiarTag returns a canonical "repository:tag" as Docker prints it,
// "busybox:1" for "docker.io/library/busybox:1".
func familiarTag(canonical string) string {
	repo, tag := image.SplitTag(canonical)
	if tag == "" {
		return image.FamiliarRepository(repo)
	}
	return image.FamiliarRepository(repo) + ":" + tag
}

// containersUsing returns the names of the containers created from the
// image, or only of the running ones.
func containersUsing(st *stores, imageID string, running bool) []string {
	list, _ := st.containers.List()
	var names []string
	for _, ctr := range list {
		if running && ctr.State.Status != container.StatusRunning {
			continue
		}
		if ctr.ImageID == imageID {
			names = append(names, ctr.Name)
		}
	}
	return names
}

func layersInUse(st *stores) (map[string]bool, error) {
	list, err := st.containers.List()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, ctr := range list {
		for _, l := range ctr.Layers {
			used[l] = true
		}
	}
	return used, nil
}
