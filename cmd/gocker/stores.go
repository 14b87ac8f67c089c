package main

import (
	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

// stores are the image and container stores under --root.
type stores struct {
	images     *image.Store
	containers *container.Store
}

func openStores(c *cli.Context) (*stores, error) {
	root, err := storeRoot(c)
	if err != nil {
		return nil, err
	}
	images, err := image.OpenStore(root)
	if err != nil {
		return nil, err
	}
	containers, err := container.OpenStore(root)
	if err != nil {
		return nil, err
	}
	sweepNetworks(c.Context)
	return &stores{images: images, containers: containers}, nil
}
