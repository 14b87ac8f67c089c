package main

import (
	"fmt"

	"github.com/gocker/gocker/cgroupv2"
	"github.com/urfave/cli/v2"
)

// resourceFlags are the resource limit flags of run and create.
func resourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "memory", Aliases: []string{"m"}, Usage: "memory limit: a size with unit b, k, m or g, such as 64m"},
		&cli.StringFlag{Name: "memory-swap", Usage: "limit of memory plus swap (a size), or -1 for unlimited swap (default: twice --memory)"},
		&cli.StringFlag{Name: "cpus", Usage: "CPU time limit in CPUs, such as 0.5"},
		&cli.Int64Flag{Name: "cpu-shares", Aliases: []string{"c"}, Usage: "relative CPU weight, 2 to 262144", DefaultText: "1024"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs the container may use, such as 0-2,4"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "maximum number of processes and threads, -1 for unlimited", DefaultText: "none"},
	}
}

// parseResources reads and validates the resource limit flags, and checks
// that this host can enforce them for the caller, before anything exists.
func parseResources(c *cli.Context) (cgroupv2.Resources, error) {
	var r cgroupv2.Resources
	var err error
	sizes := []struct {
		flag  string
		parse func(string) (int64, error)
		dest  *int64
	}{
		{"memory", cgroupv2.ParseMemory, &r.Memory},
		{"memory-swap", cgroupv2.ParseMemorySwap, &r.MemorySwap},
		{"cpus", cgroupv2.ParseCPUs, &r.NanoCPUs},
	}
	for _, s := range sizes {
		if !flagGiven(c, s.flag) {
			continue
		}
		if *s.dest, err = s.parse(c.String(s.flag)); err != nil {
			return r, fmt.Errorf("invalid --%s: %w", s.flag, err)
		}
	}
	r.CPUShares = c.Int64("cpu-shares")
	r.CpusetCpus = c.String("cpuset-cpus")
	r.PidsLimit = c.Int64("pids-limit")
	if !r.Limited() {
		return r, nil
	}
	online, err := cgroupv2.OnlineCPUs()
	if err != nil {
		return r, fmt.Errorf("read online CPUs: %w", err)
	}
	if err := r.Validate(online); err != nil {
		return r, err
	}
	return r, cgroupv2.CheckHostSupport(r)
}
