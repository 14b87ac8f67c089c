package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var imagesCommand = &cli.Command{
	Name:      "images",
	Usage:     "list images",
	ArgsUsage: "[REPOSITORY[:TAG]]",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list all images, the same as without --all because gocker keeps no intermediate images"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print image ids only"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "print full image ids"},
		&cli.BoolFlag{Name: "digests", Usage: "show the repository digests"},
	},
	Action: imagesAction,
}

func imagesAction(c *cli.Context) error {
	st, err := openStores(c)
	if err != nil {
		return err
	}
	list, err := st.images.List()
	if err != nil {
		return err
	}
	quiet, noTrunc, digests := c.Bool("quiet"), c.Bool("no-trunc"), c.Bool("digests")
	filter, err := imageFilter(c)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 3, ' ', 0)
	if !quiet {
		if digests {
			fmt.Fprintln(w, "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE")
		} else {
			fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
		}
	}
	seen := map[string]bool{}
	for _, img := range list {
		id := image.ShortID(img.ID)
		if noTrunc {
			id = img.ID
		}
		if quiet {
			// Like docker images -q, an image with several tags is
			// listed once.
			if !seen[img.ID] && slices.ContainsFunc(imageRows(img), filter) {
				fmt.Fprintln(w, id)
			}
			seen[img.ID] = true
			continue
		}
		for _, row := range imageRows(img) {
			if !filter(row) {
				continue
			}
			if digests {
				fmt.Fprintf(w, "%s\t%s\t%s\t", row[0], row[1], repoDigest(img, row[0]))
			} else {
				fmt.Fprintf(w, "%s\t%s\t", row[0], row[1])
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", id, ago(img.Created), humanSize(img.Size))
		}
	}
	return w.Flush()
}

// imageFilter returns the test for the optional REPOSITORY[:TAG]
// argument, matched against the familiar names that images prints.
func imageFilter(c *cli.Context) (func([2]string) bool, error) {
	switch c.NArg() {
	case 0:
		return func([2]string) bool { return true }, nil
	case 1:
	default:
		return nil, &exitError{code: 125, err: fmt.Errorf("\"gocker images\" accepts at most 1 argument: [REPOSITORY[:TAG]]")}
	}
	// As in Docker, an argument that is no valid reference is an error,
	// not a filter that matches nothing.
	arg := c.Args().First()
	ref, err := image.ParseReference(arg)
	if err != nil {
		return nil, &exitError{code: 125, err: err}
	}
	// A colon after the last slash starts a tag; one before it is a
	// registry's port.
	hasTag := strings.Contains(arg[strings.LastIndex(arg, "/")+1:], ":")
	repo, tag := image.FamiliarRepository(ref.Repository()), ref.Tag()
	return func(row [2]string) bool {
		return row[0] == repo && (!hasTag || row[1] == tag)
	}, nil
}

// imageRows returns a REPOSITORY and TAG pair per tag, or <none> for an
// untagged image.
func imageRows(img *image.Image) [][2]string {
	if len(img.RepoTags) == 0 {
		return [][2]string{{"<none>", "<none>"}}
	}
	rows := make([][2]string, 0, len(img.RepoTags))
	for _, t := range img.RepoTags {
		repo, tag := image.SplitTag(t)
		rows = append(rows, [2]string{image.FamiliarRepository(repo), tag})
	}
	return rows
}

// repoDigest returns the digest of img's manifest in the repository
// (familiar form), or <none> when it was neither pulled from nor pushed
// to it.
func repoDigest(img *image.Image, familiarRepo string) string {
	for _, d := range img.RepoDigests {
		repo, digest, _ := strings.Cut(d, "@")
		if image.FamiliarRepository(repo) == familiarRepo {
			return digest
		}
	}
	return "<none>"
}
