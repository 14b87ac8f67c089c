package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var inspectCommand = &cli.Command{
	Name:      "inspect",
	Usage:     "print details of containers or images as JSON",
	ArgsUsage: "NAME|ID [NAME|ID...]",
	Description: `Prints a JSON array with one object per container, shaped as Docker's
(Id, Name, State, Config, HostConfig, Mounts, NetworkSettings, ...). A
name that no container has is looked up among the images, as with
gocker image inspect, unless --type says which. With --format, prints a
Go template for each object instead, with the functions json, join,
split, lower, upper, title, pad and truncate, as Docker's:
'{{.State.Status}}', '{{json .Config}}'.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "Go template to print for each object"},
		&cli.StringFlag{Name: "type", Usage: "look only for a container or only for an image"},
	},
	Action: inspectAction,
}

func inspectAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return &exitError{code: 125, err: errors.New("\"gocker inspect\" requires at least 1 argument: NAME|ID [NAME|ID...]")}
	}
	kind := c.String("type")
	if kind != "" && kind != "container" && kind != "image" {
		return &exitError{code: 125, err: fmt.Errorf("invalid --type %q: use container or image", kind)}
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
		obj, err := inspectObject(st, ref, kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objects = append(objects, obj)
	}
	return printInspected(c, tmpl, objects, errs)
}

// inspectObject returns what gocker inspect prints for ref: the container
// of that name or id, else the image, as kind allows.
func inspectObject(st *stores, ref, kind string) (any, error) {
	if kind != "image" {
		ctr, err := st.containers.Get(ref)
		if err == nil {
			return st.containers.Inspect(ctr, st.images.Layers.Dir()), nil
		}
		if kind == "container" || !errors.Is(err, container.ErrNotFound) {
			return nil, err
		}
	}
	img, err := st.images.Get(ref)
	if err != nil {
		if kind == "" && errors.Is(err, image.ErrNotFound) {
			return nil, fmt.Errorf("no such container or image: %s", ref)
		}
		return nil, err
	}
	cfg, err := st.images.Config(img)
	if err != nil {
		return nil, err
	}
	return newImageInspect(img, cfg), nil
}

// parseFormat parses the --format template of an inspect command, or
// returns nil when the flag is not given.
func parseFormat(c *cli.Context) (*template.Template, error) {
	format := c.String("format")
	if format == "" {
		return nil, nil
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, &exitError{code: 125, err: fmt.Errorf("invalid --format: %w", err)}
	}
	return tmpl, nil
}

// printInspected prints objects as an indented JSON array, or tmpl once
// for each object, and returns errs, the arguments that were not found,
// as one error with exit status 1.
func printInspected(c *cli.Context, tmpl *template.Template, objects []any, errs []error) error {
	if tmpl == nil {
		if objects == nil {
			objects = []any{}
		}
		data, err := json.MarshalIndent(objects, "", "    ")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "%s\n", data)
		return joinFailures(errs)
	}
	for _, obj := range objects {
		out, err := executeTemplate(tmpl, obj)
		if err != nil {
			return &exitError{code: 125, err: err}
		}
		fmt.Fprintln(c.App.Writer, out)
	}
	return joinFailures(errs)
}

// executeTemplate runs tmpl on the JSON form of obj, so that templates
// name fields as the JSON output does ({{.Id}}), as Docker's do.
func executeTemplate(tmpl *template.Template, obj any) (string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Numbers stay as written: a pid prints as 1234, not 1.234e+03.
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return "", err
	}
	var out strings.Builder
	if err := tmpl.Execute(&out, value); err != nil {
		return "", fmt.Errorf("execute --format: %w", err)
	}
	return out.String(), nil
}

// templateFuncs are the functions Docker's templates offer.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		data, err := json.Marshal(v)
		return string(data), err
	},
	"join":  joinValues,
	"split": strings.Split,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"pad": func(s string, left, right int) string {
		return strings.Repeat(" ", left) + s + strings.Repeat(" ", right)
	},
	"truncate": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n]
	},
	"println": fmt.Sprintln,
}

// joinValues joins the elements of a list with sep. Templates run on
// decoded JSON, where lists are []any.
func joinValues(list any, sep string) (string, error) {
	switch l := list.(type) {
	case []string:
		return strings.Join(l, sep), nil
	case []any:
		parts := make([]string, len(l))
		for i, v := range l {
			parts[i] = fmt.Sprint(v)
		}
		return strings.Join(parts, sep), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("join: %T is not a list", list)
}
