package netstack

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// EtcOptions describe the generated /etc/hosts, /etc/hostname and
// /etc/resolv.conf of a container.
type EtcOptions struct {
	Hostname string
	// HostNetwork means the container shares the host's network
	// namespace, so the host's loopback resolvers are reachable.
	HostNetwork bool
	// HostResolvConf is the host's resolv.conf, usually /etc/resolv.conf.
	HostResolvConf string
	// HostHosts is the host's hosts file, usually /etc/hosts. On the
	// host's network the container's /etc/hosts starts as a copy of it,
	// as in Docker.
	HostHosts string
	// ExtraHosts are "NAME:ADDRESS" entries from --add-host. The address
	// HostGateway stands for the address at which the container reaches
	// the host: Gateway, or 127.0.0.1 on the host's network.
	ExtraHosts []string
	// Address is the container's own IPv4 address, which /etc/hosts
	// gives its host name; without one the name maps to 127.0.1.1.
	Address string
	// Gateway is the container's default gateway, empty without one.
	Gateway string
	// DNS are the nameservers from --dns. They replace every other
	// nameserver.
	DNS []string
	// DNSSearch and DNSOptions, from --dns-search and --dns-option,
	// replace the host's search and options lines. A search domain "."
	// leaves the file without a search line.
	DNSSearch  []string
	DNSOptions []string
	// Nameservers are the nameservers of the container's network (the
	// DNS forwarder of slirp4netns or pasta). When set, they replace the
	// host's nameservers, which the container may not reach.
	Nameservers []string
}

// EtcFile is a generated file and where it goes in the container.
type EtcFile struct {
	Destination string
	Data        []byte
}

// EtcFiles returns the contents of the container's /etc/hosts,
// /etc/hostname and /etc/resolv.conf.
func EtcFiles(opts EtcOptions) ([]EtcFile, error) {
	resolv, err := resolvConf(opts)
	if err != nil {
		return nil, err
	}
	return []EtcFile{
		{Destination: EtcPaths[0], Data: hostsFile(opts)},
		{Destination: EtcPaths[1], Data: []byte(opts.Hostname + "\n")},
		{Destination: EtcPaths[2], Data: resolv},
	}, nil
}

// EtcPaths are the destinations of the files that EtcFiles returns, in
// its order.
var EtcPaths = []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}

func hostsFile(opts EtcOptions) []byte {
	var b bytes.Buffer
	var host []byte
	if opts.HostNetwork && opts.HostHosts != "" {
		// A host without the file gets the lines below.
		host, _ = os.ReadFile(opts.HostHosts)
	}
	if len(host) > 0 {
		b.Write(host)
		if host[len(host)-1] != '\n' {
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("127.0.0.1\tlocalhost\n")
		b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	}
	for _, h := range opts.ExtraHosts {
		name, addr, _ := strings.Cut(h, ":")
		if addr == HostGateway {
			addr = hostGatewayAddress(opts)
		}
		fmt.Fprintf(&b, "%s\t%s\n", addr, name)
	}
	own := "127.0.1.1"
	if opts.Address != "" {
		own = opts.Address
	}
	fmt.Fprintf(&b, "%s\t%s\n", own, opts.Hostname)
	return b.Bytes()
}

// HostGateway is the --add-host address that stands for the host.
const HostGateway = "host-gateway"

// hostGatewayAddress returns the address of the host as the container
// reaches it: its gateway (the bridge's own address, or the address that
// slirp4netns and pasta map to the host's loopback with
// allow_host_loopback=true), or 127.0.0.1 on the host's network.
func hostGatewayAddress(opts EtcOptions) string {
	if opts.HostNetwork || opts.Gateway == "" {
		return "127.0.0.1"
	}
	return opts.Gateway
}

func resolvConf(opts EtcOptions) ([]byte, error) {
	data, err := resolvWithNameservers(opts)
	if err != nil || (len(opts.DNSSearch) == 0 && len(opts.DNSOptions) == 0) {
		return data, err
	}
	return replaceResolvOptions(data, opts.DNSSearch, opts.DNSOptions), nil
}

// replaceResolvOptions replaces the search (or domain) lines of a
// resolv.conf with one for search, and its options lines with one for
// options, when those are given. Each new line takes the place of the
// first line it replaces, or goes at the end. As in Docker, the domain
// "." is left out, so search ["."] removes the search lines.
func replaceResolvOptions(data []byte, search, options []string) []byte {
	var domains []string
	for _, d := range search {
		if d != "." {
			domains = append(domains, d)
		}
	}
	searchLine := ""
	if len(domains) > 0 {
		searchLine = "search " + strings.Join(domains, " ") + "\n"
	}
	optionsLine := ""
	if len(options) > 0 {
		optionsLine = "options " + strings.Join(options, " ") + "\n"
	}

	var b bytes.Buffer
	searchDone, optionsDone := len(search) == 0, len(options) == 0
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		switch {
		case len(fields) > 0 && (fields[0] == "search" || fields[0] == "domain") && len(search) > 0:
			if !searchDone {
				b.WriteString(searchLine)
				searchDone = true
			}
		case len(fields) > 0 && fields[0] == "options" && len(options) > 0:
			if !optionsDone {
				b.WriteString(optionsLine)
				optionsDone = true
			}
		default:
			b.WriteString(line)
		}
	}

	if !searchDone {
		b.WriteString(searchLine)
	}
	if !optionsDone {
		b.WriteString(optionsLine)
	}
	return b.Bytes()
}

// resolvWithNameservers returns the host's resolv.conf with the
// container's nameservers.
func resolvWithNameservers(opts EtcOptions) ([]byte, error) {
	// A host without resolv.conf contributes no lines: the container
	// gets the nameservers of --dns or of its network, or none, never a
	// guessed public resolver.
	var f io.Reader = strings.NewReader("")
	if host, err := os.Open(opts.HostResolvConf); err == nil {
		defer host.Close()
		f = host
	}
	switch {
	case len(opts.DNS) > 0:
		return ReplaceNameservers(f, opts.DNS)
	case len(opts.Nameservers) > 0 && !opts.HostNetwork:
		return ReplaceNameservers(f, opts.Nameservers)
	}
	return FilterResolvConf(f, opts.HostNetwork)
}

// ReplaceNameservers copies a resolv.conf with its nameserver lines
// replaced by nameservers, keeping search and options lines.
func ReplaceNameservers(r io.Reader, nameservers []string) ([]byte, error) {
	var b bytes.Buffer
	for _, ns := range nameservers {
		b.WriteString("nameserver " + ns + "\n")
	}
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := scanner.Text()
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == "nameserver" {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes(), scanner.Err()
}

// FilterResolvConf copies a resolv.conf, dropping loopback nameservers
// (such as systemd-resolved's 127.0.0.53) unless the container shares the
// host's network, because in its own network namespace they would point at
// the container itself.
func FilterResolvConf(r io.Reader, hostNetwork bool) ([]byte, error) {
	var b bytes.Buffer
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := scanner.Text()
		fields := strings.Fields(line)
		if !hostNetwork && len(fields) >= 2 && fields[0] == "nameserver" {
			if addr, err := netip.ParseAddr(strings.Split(fields[1], "%")[0]); err == nil && addr.IsLoopback() {
				continue
			}
		}
		b.WriteString(line + "\n")
	}
	return b.Bytes(), scanner.Err()
}
