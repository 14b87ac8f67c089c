package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/gocker/gocker/image"
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
	id := img.ID
	if !noTrunc {
		id = image.ShortID(img.ID)
	}
	if c.Bool("quiet") {
		// Only the newest row is an image gocker has; the rest are
		// <missing>, which docker history -q prints as such.
		for i := range rows {
			if i == 0 {
				fmt.Fprintln(c.App.Writer, id)
			} else {
				fmt.Fprintln(c.App.Writer, "<missing>")
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
	for i, r := range rows {
		rowID := "<missing>"
		if i == 0 {
			rowID = id
		}
		createdBy := strings.Join(strings.Fields(r.createdBy), " ")
		if !noTrunc {
			createdBy = truncate(createdBy, 45)
		}
		size := strconv.FormatInt(r.size, 10)
		if c.Bool("human") {
			size = humanSize(r.size)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", rowID, r.created, createdBy, size, r.comment)
	}
	return w.Flush()
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
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return rows, nil
}
