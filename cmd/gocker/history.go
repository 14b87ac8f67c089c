package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gocker/gocker/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

// historyCommand is gocker history; image history is the same command.
func historyCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "show how an image was built, one row per history entry, newest first",
		ArgsUsage: "IMAGE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "print sizes and dates in human-readable form"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate the output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print the image id only"},
		},
		Action: historyAction,
	}
}

// historyRow is one line of gocker history.
type historyRow struct {
	id                          string // the local image this row ends, if any
	created, createdBy, comment string
	size                        int64
}

func historyAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return &exitError{code: 125, err: fmt.Errorf("%q requires exactly 1 argument: IMAGE", c.Command.HelpName)}
	}

	st, err := openStores(c)
	if err != nil {
		return err
	}
	img, err := st.images.Get(c.Args().First())
	if errors.Is(err, image.ErrNotFound) {
		// Docker's daemon errors, such as a missing image, exit with 1.
		return &exitError{code: 1, err: err}
	}
	if err != nil {
		return err
	}
	rows, err := imageHistory(st, img, c.Bool("human"))
	if err != nil {
		return err
	}

	noTrunc := c.Bool("no-trunc")
	if c.Bool("quiet") {
		for _, r := range rows {
			fmt.Fprintln(c.App.Writer, r.imageID(noTrunc))
		}
		return nil
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
	for _, r := range rows {
		createdBy := strings.Join(strings.Fields(r.createdBy), " ")
		if !noTrunc {
			createdBy = truncate(createdBy, 45)
		}
		size := strconv.FormatInt(r.size, 10)
		if c.Bool("human") {
			size = humanSize(r.size)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.imageID(noTrunc), r.created, createdBy, size, r.comment)
	}
	return w.Flush()
}

// imageID returns the IMAGE column of the row: the id of the stored image
// that the row ends, or <missing> as Docker prints it.
func (r historyRow) imageID(noTrunc bool) string {
	switch {
	case r.id == "":
		return "<missing>"
	case noTrunc:
		return r.id
	}
	return image.ShortID(r.id)
}

// imageHistory returns the rows of img's history, newest first. An entry
// that is not marked empty_layer stands for the next layer, whose size it
// shows; a config without history gets one row per layer.
func imageHistory(st *stores, img *image.Image, human bool) ([]historyRow, error) {
	cfg, err := st.images.Config(img)
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, len(img.Layers))
	for i, id := range img.Layers {
		if l, err := st.images.Layers.Get(id); err == nil {
			sizes[i] = l.Size
		}
	}

	var rows []historyRow
	layer := 0
	for _, h := range cfg.History {
		r := historyRow{createdBy: h.CreatedBy, comment: h.Comment}
		if !h.Created.IsZero() {
			r.created = h.Created.UTC().Format("2006-01-02T15:04:05Z")
			if human {
				r.created = ago(h.Created.Time)
			}
		}
		if !h.EmptyLayer && layer < len(sizes) {
			r.size = sizes[layer]
			layer++
		}
		rows = append(rows, r)
	}
	// Layers that the history does not account for.
	for ; layer < len(sizes); layer++ {
		rows = append(rows, historyRow{size: sizes[layer]})
	}
	if len(rows) == 0 {
		return nil, nil
	}

	markLocalParents(st, img, cfg.History, rows)
	rows[len(rows)-1].id = img.ID
	slices.Reverse(rows)
	return rows, nil
}

// markLocalParents sets the id of the rows, oldest first, that end a
// stored image which img was built on: an image whose layers begin img's
// and whose history begins img's, such as the image a container was
// committed from. Docker shows such rows with the parent image's id.
func markLocalParents(st *stores, img *image.Image, history []v1.History, rows []historyRow) {
	images, err := st.images.List()
	if err != nil {
		return
	}
	for _, other := range images {
		if other.ID == img.ID || len(other.Layers) > len(img.Layers) || !slices.Equal(other.Layers, img.Layers[:len(other.Layers)]) {
			continue
		}
		cfg, err := st.images.Config(other)
		n := 0
		if err == nil {
			n = len(cfg.History)
		}
		if n == 0 || n > len(history) || n > len(rows) || !sameHistory(cfg.History, history[:n]) {
			continue
		}
		rows[n-1].id = other.ID
	}
}

func sameHistory(a, b []v1.History) bool {
	return slices.EqualFunc(a, b, func(x, y v1.History) bool {
		return x.CreatedBy == y.CreatedBy && x.Created.Equal(y.Created.Time) && x.EmptyLayer == y.EmptyLayer && x.Comment == y.Comment
	})
}
