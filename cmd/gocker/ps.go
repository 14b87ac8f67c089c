package main

import (
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:  "ps",
	Usage: "list containers (running ones unless --all)",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list stopped and created containers too"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print container ids only"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "print full ids and commands"},
	},
	Action: psAction,
}

func psAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return &exitError{code: 125, err: fmt.Errorf("\"gocker ps\" accepts no arguments, got %q", c.Args().First())}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	list, err := st.containers.List()
	if err != nil {
		return err
	}
	all, quiet, noTrunc := c.Bool("all"), c.Bool("quiet"), c.Bool("no-trunc")
	images, _ := st.images.List()
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 3, ' ', 0)
	if !quiet {
		fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	}
	for _, ctr := range list {
		if !all && ctr.State.Status != container.StatusRunning && ctr.State.Status != container.StatusRestarting {
			continue
		}
		id, command := ctr.ShortID(), quoteCommand(ctr.Command())
		if noTrunc {
			id = ctr.ID
		} else {
			command = truncate(command, 20)
		}
		if quiet {
			fmt.Fprintln(w, id)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, containerImage(ctr, images), command,
			ago(ctr.Created), containerStatus(ctr.State), formatPorts(ctr), ctr.Name)
	}
	return w.Flush()
}

// containerImage names a container's image as docker ps does: by the
// reference it was created from while that still names the same image,
// otherwise by the image's short id.
func containerImage(ctr *container.Container, images []*image.Image) string {
	ref, err := image.ParseReference(ctr.Image)
	if err == nil {
		for _, img := range images {
			if img.ID == ctr.ImageID && slices.Contains(img.RepoTags, ref.String()) {
				return displayImage(ctr.Image)
			}
		}
	}
	return image.ShortID(ctr.ImageID)
}

// displayImage prints an image reference in Docker's familiar form.
func displayImage(ref string) string {
	r, err := image.ParseReference(ref)
	if err != nil {
		return ref
	}
	name := image.FamiliarRepository(r.Repository())
	if r.Digest() != "" {
		return name + "@" + r.Digest()
	}
	if r.Tag() != "latest" {
		name += ":" + r.Tag()
	}
	return name
}

// containerStatus formats a state as Docker's STATUS column.
func containerStatus(s container.State) string {
	switch s.Status {
	case container.StatusRunning:
		return "Up " + humanDuration(time.Since(s.StartedAt))
	case container.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s", s.ExitCode, ago(s.FinishedAt))
	case container.StatusExited:
		if s.FinishedAt.IsZero() {
			// A monitor that was killed recorded no time.
			return fmt.Sprintf("Exited (%d)", s.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s", s.ExitCode, ago(s.FinishedAt))
	}
	return "Created"
}
