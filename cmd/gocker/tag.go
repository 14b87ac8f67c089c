package main

import (
	"errors"

	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

var tagCommand = &cli.Command{
	Name:      "tag",
	Usage:     "give an image another name",
	ArgsUsage: "SOURCE TARGET",
	Action:    tagAction,
}

func tagAction(c *cli.Context) error {
	if c.NArg() != 2 {
		return &exitError{code: 125, err: errors.New("\"gocker tag\" requires exactly 2 arguments: SOURCE TARGET")}
	}
	target, err := image.ParseReference(c.Args().Get(1))
	if err != nil {
		return err
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	_, err = st.images.Tag(c.Context, c.Args().Get(0), target)
	return err
}
