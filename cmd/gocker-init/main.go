// Command gocker-init is the init of gocker's containers. It is built apart
// from gocker and links only the init's code, so it starts in about a third
// of the time the whole gocker binary takes, and every container start
// waits for that. gocker runs it from its own directory, in the container's
// new namespaces, and sends it the spec on a pipe.
package main

import (
	"fmt"
	"os"

	"github.com/gocker/gocker/container/initproc"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--build-id" {
		// gocker doctor compares it with its own.
		fmt.Println(initproc.BuildID)
		return
	}
	if os.Args[0] != initproc.Name {
		fmt.Fprintf(os.Stderr, "gocker-init: this is the init of gocker's containers, which gocker starts itself: run \"gocker run\" instead\n")
		os.Exit(125)
	}
	initproc.Main()
}
