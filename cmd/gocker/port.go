package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gocker/gocker/container"
	"github.com/urfave/cli/v2"
)

var portCommand = &cli.Command{
	Name:      "port",
	Usage:     "list the published ports of a running container",
	ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
	Description: `Prints one line per published port, "80/tcp -> 0.0.0.0:8080", or with
PRIVATE_PORT only the host addresses of that port. A stopped container has
no published ports.`,
	Action: portAction,
}

func portAction(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return &exitError{code: 125, err: errors.New("\"gocker port\" requires 1 or 2 arguments: CONTAINER [PRIVATE_PORT[/PROTO]]")}
	}
	st, err := openStores(c)
	if err != nil {
		return err
	}
	ctr, err := st.containers.Get(c.Args().First())
	if err != nil {
		return err
	}

	ports := hostAddresses(ctr)

	if c.NArg() == 2 {
		key := c.Args().Get(1)
		if !strings.Contains(key, "/") {
			key += "/tcp"
		}
		addrs, ok := ports[key]
		if !ok {
			return fmt.Errorf("no public port %s published for %s", key, ctr.Name)
		}
		for _, a := range addrs {
			fmt.Fprintln(c.App.Writer, a)
		}
		return nil
	}

	for _, k := range sortedKeys(ports) {
		for _, a := range ports[k] {
			fmt.Fprintf(c.App.Writer, "%s -> %s\n", k, a)
		}
	}
	return nil
}

// hostAddresses maps each published port of a running container, "80/tcp",
// to its host addresses, "0.0.0.0:8080".
func hostAddresses(ctr *container.Container) map[string][]string {
	ports := map[string][]string{}
	if n := ctr.NetworkSettings; n != nil {
		for key, bindings := range n.Ports {
			for _, b := range bindings {
				ports[key] = append(ports[key], joinHostPort(b.HostIP, b.HostPort))
			}
		}
	}
	return ports
}

func sortedKeys(ports map[string][]string) []string {
	keys := make([]string, 0, len(ports))
	for k := range ports {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, comparePortKeys)
	return keys
}

// formatPorts formats the PORTS column of gocker ps as Docker does:
// "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp".
func formatPorts(ctr *container.Container) string {
	ports := hostAddresses(ctr)
	var out []string
	for _, k := range sortedKeys(ports) {
		for _, a := range ports[k] {
			out = append(out, a+"->"+k)
		}
	}
	return strings.Join(out, ", ")
}

// comparePortKeys orders "80/tcp" keys by port number, then protocol.
func comparePortKeys(a, b string) int {
	var pa, pb int
	var protoA, protoB string
	fmt.Sscanf(strings.Replace(a, "/", " ", 1), "%d %s", &pa, &protoA)
	fmt.Sscanf(strings.Replace(b, "/", " ", 1), "%d %s", &pb, &protoB)
	if pa != pb {
		return pa - pb
	}
	return strings.Compare(protoA, protoB)
}

func joinHostPort(ip, port string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + port
	}
	return ip + ":" + port
}
