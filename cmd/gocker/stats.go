package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
)

// statsInterval is the time between two samples, over which CPU % is
// computed, as in Docker.
const statsInterval = time.Second

var statsCommand = &cli.Command{
	Name:      "stats",
	Usage:     "show the CPU, memory and process usage of running containers",
	ArgsUsage: "[CONTAINER...]",
	Description: `Prints a table of the running containers (or those named) every second, or
once with --no-stream. Containers with resource limits are measured in
their cgroup. Containers without limits have no cgroup: their memory is the
resident memory of their processes, and their memory limit and MEM % read
"--".`,
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "no-stream", Usage: "print one table and exit"},
		&cli.BoolFlag{Name: "no-trunc", Usage: "print full container ids"},
	},
	Action: statsAction,
}

func statsAction(c *cli.Context) error {
	st, err := openStores(c)
	if err != nil {
		return err
	}
	containers, err := statsTargets(st.containers, c.Args().Slice())
	if err != nil {
		return err
	}
	memTotal := hostMemory()
	prev := sampleAll(containers)
	clear := !c.Bool("no-stream") && isTerminal(c.App.Writer)
	for {
		select {
		case <-c.Context.Done():
			return nil
		case <-time.After(statsInterval):
		}
		cur := sampleAll(containers)
		if clear {
			fmt.Fprint(c.App.Writer, "\033[2J\033[H")
		}
		if err := printStats(c.App.Writer, containers, prev, cur, memTotal, c.Bool("no-trunc")); err != nil {
			return err
		}
		if c.Bool("no-stream") {
			return nil
		}
		prev = cur
	}
}

// statsTargets returns the named containers, which must be running, or
// every running container.
func statsTargets(store *container.Store, refs []string) ([]*container.Container, error) {
	if len(refs) == 0 {
		all, err := store.List()
		if err != nil {
			return nil, err
		}
		var running []*container.Container
		for _, ctr := range all {
			if ctr.State.Status == container.StatusRunning {
				running = append(running, ctr)
			}
		}
		return running, nil
	}
	var list []*container.Container
	for _, ref := range refs {
		ctr, err := store.Get(ref)
		if err != nil {
			return nil, err
		}
		if ctr.State.Status != container.StatusRunning {
			return nil, fmt.Errorf("container %s is not running", ref)
		}
		list = append(list, ctr)
	}
	return list, nil
}

// sampleAll samples each container; a container that stopped meanwhile
// has no sample.
func sampleAll(containers []*container.Container) map[string]container.Usage {
	samples := make(map[string]container.Usage, len(containers))
	for _, ctr := range containers {
		if u, err := container.SampleUsage(ctr); err == nil {
			samples[ctr.ID] = u
		}
	}
	return samples
}

func printStats(w io.Writer, containers []*container.Container, prev, cur map[string]container.Usage, memTotal uint64, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
	for _, ctr := range containers {
		id := ctr.ShortID()
		if noTrunc {
			id = ctr.ID
		}
		row := statsRow(prev[ctr.ID], cur[ctr.ID], memTotal)
		if _, ok := cur[ctr.ID]; !ok {
			row = [4]string{"--", "-- / --", "--", "--"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, ctr.Name, row[0], row[1], row[2], row[3])
	}
	return tw.Flush()
}

// statsRow formats CPU %, MEM USAGE / LIMIT, MEM % and PIDS from two
// samples. A cgroup without a memory limit is measured against the host's
// memory, as Docker does.
func statsRow(prev, cur container.Usage, memTotal uint64) [4]string {
	cpu := "--"
	if elapsed := cur.Time.Sub(prev.Time); elapsed > 0 && !prev.Time.IsZero() && cur.CPU >= prev.CPU {
		cpu = fmt.Sprintf("%.2f%%", 100*float64(cur.CPU-prev.CPU)/float64(elapsed))
	}
	limit, percent := "--", "--"
	switch {
	case !cur.FromCgroup:
	case cur.MemoryLimit > 0:
		limit = binarySize(cur.MemoryLimit)
		percent = fmt.Sprintf("%.2f%%", 100*float64(cur.Memory)/float64(cur.MemoryLimit))
	case memTotal > 0:
		limit = binarySize(memTotal)
		percent = fmt.Sprintf("%.2f%%", 100*float64(cur.Memory)/float64(memTotal))
	}
	return [4]string{cpu, binarySize(cur.Memory) + " / " + limit, percent, strconv.FormatUint(cur.Pids, 10)}
}

// binarySize formats bytes with binary units, as "docker stats" prints
// memory ("1.5MiB").
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	value := float64(n)
	i := 0
	for value >= 1024 && i < len(units)-1 {
		value /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", value, units[i])
}

// hostMemory returns MemTotal of /proc/meminfo in bytes, 0 when unknown.
func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
