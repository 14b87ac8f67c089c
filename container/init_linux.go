package container

import (
	"github.com/gocker/gocker/container/initproc"
	"github.com/gocker/gocker/reexec"
)

// The gocker binary serves as the container init where no separate init
// binary is installed next to it (see initBinary).
func init() {
	reexec.Register(initproc.Name, initproc.Main)
}
