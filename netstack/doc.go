// Package netstack owns container networking and the container's
// generated /etc/hosts, /etc/hostname and /etc/resolv.conf.
//
// Rootless containers get user-mode networking ([ModeSlirp4netns], the
// default, or [ModePasta]): a network namespace of their own that
// slirp4netns or pasta connects to the host through /dev/net/tun, with
// the tool's DNS forwarder as the only nameserver. Published ports go
// through rootlesskit's builtin port driver, used as a library. Its parent
// side runs in the container's monitor and listens on the host. Its child
// side is the gocker binary, which nsenter starts in the container's
// network namespace (see portForwarder). The data of a published port
// is copied between two sockets by the monitor and never passes through
// slirp4netns or pasta.
//
// Root containers get [ModeBridge]: a bridge (gocker0, 172.18.0.1/24 by
// default), a veth pair each, an address leased from a lease file under a
// lock, and an nftables table of the bridge's own with MASQUERADE for
// outbound traffic and a DNAT rule per published port. Everything gocker
// creates is recorded in the lease file before it is created, so that
// stopping or removing a container, or the next gocker command after its
// monitor died ([SweepStale]), deletes exactly what it created. Links are
// made with netlink handles opened in the container's network namespace;
// the calling process never changes namespace itself.
//
// It needs from the host: slirp4netns or pasta, a /dev/net/tun the user
// may open and nsenter (util-linux) for rootless networking; for bridge
// networking, root and nf_tables. The host checks of "gocker doctor"
// (/dev/net/tun, the tools, the unprivileged port range) live here too.
//
// Do not use it for IPv6 container addresses, user-defined networks or
// DNS between containers: none of these exist yet.
package netstack
