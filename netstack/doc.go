// Package netstack owns container networking. Rootless containers get
// user-mode networking: a network namespace each, slirp4netns or pasta
// for outbound traffic, and published ports through a port driver. Root
// gets bridge networking: a bridge, a veth pair per container, address
// leases, NAT and published ports. The package also generates /etc/hosts,
// /etc/hostname and /etc/resolv.conf.
//
// Today it provides those files and the host checks of "gocker doctor":
// /dev/net/tun, the user-mode networking tools, and the host ports an
// unprivileged user may publish.
package netstack
