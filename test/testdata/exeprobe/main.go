// Command exeprobe runs inside a container in the tests of gocker exec and
// --init. It looks, for a while, at the binary of every process it can see
// through /proc/PID/exe, and tries to write every gocker binary it finds,
// as the CVE-2019-5736 attack on runc did: it opens the file for writing,
// and keeps an O_PATH descriptor to reopen it for writing once the process
// has exited. It prints a line for every gocker binary it could write or
// that is not a sealed memfd copy, then a summary line with how many
// gocker binaries it saw.
//
// It stops when the file named by its first argument exists.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: exeprobe STOPFILE")
		os.Exit(2)
	}
	p := &prober{held: map[string]int{}}
	for rounds := 1; ; rounds++ {
		if _, err := os.Stat(os.Args[1]); err == nil {
			fmt.Printf("rounds %d gocker %d\n", rounds, p.gocker)
			return
		}
		links, _ := filepath.Glob("/proc/[0-9]*/exe")
		for _, link := range links {
			p.probe(link)
		}
		for target, fd := range p.held {
			tryWrite(fmt.Sprintf("/proc/self/fd/%d", fd), "later "+target)
		}
	}
}

type prober struct {
	held   map[string]int // link target -> O_PATH descriptor
	gocker int            // gocker binaries seen
}

func (p *prober) probe(link string) {
	target, err := os.Readlink(link)
	if err != nil || !strings.Contains(target, "gocker") {
		return
	}
	p.gocker++
	if !strings.HasPrefix(target, "/memfd:") {
		fmt.Printf("EXPOSED %s -> %s\n", link, target)
	}
	tryWrite(link, target)
	if _, ok := p.held[target]; !ok && len(p.held) < 64 {
		if fd, err := unix.Open(link, unix.O_PATH|unix.O_CLOEXEC, 0); err == nil {
			p.held[target] = fd
		}
	}
}

func tryWrite(path, what string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Write([]byte("exeprobe\n")); err == nil {
		fmt.Printf("WROTE %s (%s)\n", path, what)
	}
}
