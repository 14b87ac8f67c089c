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
	Config       inspectConfig     `json:"Config"`
	Architecture string            `json:"Architecture"`
	Variant      string            `json:"Variant,omitempty"`
	Os           string            `json:"Os"`
	Size         int64             `json:"Size"`
	RootFS       inspectRootFS     `json:"RootFS"`
	Metadata     map[string]string `json:"Metadata,omitempty"`
}

// inspectConfig is an image's config as docker image inspect prints it:
// every key that Docker always prints is present, so that a template
// such as '{{.Config.Cmd}}' prints "[]" for an image without one instead
// of "<no value>".
type inspectConfig struct {
	User         string              `json:"User"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env"`
	Entrypoint   []string            `json:"Entrypoint"`
	Cmd          []string            `json:"Cmd"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Labels       map[string]string   `json:"Labels"`
	OnBuild      []string            `json:"OnBuild"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Shell        []string            `json:"Shell,omitempty"`
	Healthcheck  *v1.HealthConfig    `json:"Healthcheck,omitempty"`
	ArgsEscaped  bool                `json:"ArgsEscaped,omitempty"`
}

// newInspectConfig copies c, with empty lists and maps in place of
// missing ones.
func newInspectConfig(c v1.Config) inspectConfig {
	out := inspectConfig{
		User: c.User, ExposedPorts: c.ExposedPorts, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd,
		Volumes: c.Volumes, WorkingDir: c.WorkingDir, Labels: c.Labels, OnBuild: c.OnBuild,
		StopSignal: c.StopSignal, Shell: c.Shell, Healthcheck: c.Healthcheck, ArgsEscaped: c.ArgsEscaped,
	}
	for _, list := range []*[]string{&out.Env, &out.Entrypoint, &out.Cmd, &out.OnBuild} {
		if *list == nil {
			*list = []string{}
		}
	}
	if out.Volumes == nil {
		out.Volumes = map[string]struct{}{}
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	return out
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
		Config:       newInspectConfig(cfg.Config),
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
