package main

import (
	"github.com/gocker/gocker/container"
	"github.com/gocker/gocker/image"
	"github.com/urfave/cli/v2"
)

// stores are the image and container stores under --root.
type stores struct {
	root       string
	images     *image.Store
	containers *container.Store
}

func openStores(c *cli.Context) (*stores, error) {
	root, err := storeRoot(c)
	if err != nil {
		return nil, err
	}
	st, err := openStoresAt(root)
	if err != nil {
		return nil, err
	}
	// Every command first removes what containers whose monitor died
	// left of their networks.
	sweepNetworks(c.Context)
	return st, nil
}

func openStoresAt(root string) (*stores, error) {
	images, err := image.OpenStore(root)
	if err != nil {
		return nil, err
	}
	containers, err := container.OpenStore(root)
	if err != nil {
		return nil, err
	}
	return &stores{root: root, images: images, containers: containers}, nil
}
