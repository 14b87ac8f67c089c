package main

import (
	"errors"
	"strings"
	"time"

	"github.com/gocker/gocker/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

var imageCommand = &cli.Command{
	Name:  "image",
	Usage: "manage images",
	Subcommands: []*cli.Command{
		{
			Name:      "inspect",
			Usage:     "print images as a JSON array, in Docker's shape",
			ArgsUsage: "IMAGE [IMAGE...]",
			Description: `Prints a JSON array with one object per image, shaped as Docker's
(Id, RepoTags, RepoDigests, Created, Config, Architecture, Os, Size,
RootFS, ...). With --format, prints a Go template for each image instead,
with the same functions as gocker inspect: '{{.Id}}', '{{json .Config}}'.`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template to print for each image"},
			},
			Action: imageInspectAction,
		},
		imagePruneCommand,
		historyCommand("history"),
	},
}

// imageInspect is an image as docker image inspect prints it.
type imageInspect struct {
	ID           string            `json:"Id"`
	RepoTags     []string          `json:"RepoTags"`
	RepoDigests  []string          `json:"RepoDigests"`
	Comment      string            `json:"Comment"`
	Created      string            `json:"Created"`
	Author       string            `json:"Author"`
	Config       v1.Config         `json:"Config"`
	Architecture string            `json:"Architecture"`
	Variant      string            `json:"Variant,omitempty"`
	Os           string            `json:"Os"`
	Size         int64             `json:"Size"`
	RootFS       inspectRootFS     `json:"RootFS"`
	Metadata     map[string]string `json:"Metadata,omitempty"`
}

type inspectRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func imageInspectAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker image inspect\" requires at least 1 argument: IMAGE [IMAGE...]")}
	}
	tmpl, err := parseFormat(c)
	if err != nil {
		return err
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	var objects []any
	var errs []error
	for _, ref := range c.Args().Slice() {
		img, err := st.images.Get(ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cfg, err := st.images.Config(img)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objects = append(objects, newImageInspect(img, cfg))
	}
	return printInspected(c, tmpl, objects, errs)
}

func newImageInspect(img *image.Image, cfg *v1.ConfigFile) imageInspect {
	in := imageInspect{
		ID:           img.ID,
		RepoTags:     []string{},
		RepoDigests:  []string{},
		Created:      cfg.Created.UTC().Format(time.RFC3339Nano),
		Author:       cfg.Author,
		Config:       cfg.Config,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		Size:         img.Size,
		RootFS:       inspectRootFS{Type: "layers", Layers: img.Layers},
	}
	for _, t := range img.RepoTags {
		repo, tag := image.SplitTag(t)
		in.RepoTags = append(in.RepoTags, image.FamiliarRepository(repo)+":"+tag)
	}
	for _, d := range img.RepoDigests {
		repo, digest, _ := strings.Cut(d, "@")
		in.RepoDigests = append(in.RepoDigests, image.FamiliarRepository(repo)+"@"+digest)
	}
	if n := len(cfg.History); n > 0 {
		in.Comment = cfg.History[n-1].Comment
	}
	return in
}
