#!/bin/bash
# demo.sh: build the default busybox image from Debian's busybox-static
# and run a container as an unprivileged user.
#
# As root it installs what is missing (uidmap, busybox-static), creates the
# user gockerdemo with subordinate ids, and runs the demo as that user. As
# any other user it runs the demo as that user, who needs entries in
# /etc/subuid and /etc/subgid ("gocker doctor" prints what is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gocker=${GOCKER:-$here/../bin/gocker}
mkbusybox=${MKBUSYBOX:-$here/mkbusybox.sh}

if [ "$(id -u)" -eq 0 ]; then
	missing=""
	for p in uidmap busybox-static; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "demo: installing$missing"
		apt-get -o DPkg::Lock::Timeout=600 update -q
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
	fi
	if ! id gockerdemo >/dev/null 2>&1; then
		useradd --create-home --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 gockerdemo
	fi
	for f in /etc/subuid /etc/subgid; do
		touch "$f"
		if ! grep -q '^gockerdemo:' "$f"; then
			start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
			echo "gockerdemo:$start:65536" >> "$f"
		fi
	done
	# The repository may be where gockerdemo cannot read it (/root), so
	# the binaries and scripts go to a directory it can. gocker runs the
	# container init from the gocker-init next to it.
	shared=$(mktemp -d /tmp/gocker-demo-bin.XXXXXX)
	trap 'rm -rf "$shared"' EXIT
	chmod 0755 "$shared"
	install -m 0755 "$gocker" "$shared/gocker"
	if [ -x "$gocker-init" ]; then
		install -m 0755 "$gocker-init" "$shared/gocker-init"
	fi
	install -m 0755 "$here/demo.sh" "$mkbusybox" "$shared/"
	runuser -u gockerdemo -- env -i HOME=/home/gockerdemo PATH=/usr/bin:/bin \
		GOCKER="$shared/gocker" MKBUSYBOX="$shared/mkbusybox.sh" bash "$shared/demo.sh"
	exit
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gocker-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work/run}
mkdir -p -m 0700 "$XDG_RUNTIME_DIR"

# The demo needs no network. The default user-mode network needs
# /dev/net/tun, which some hosts keep closed to users (mode 0600).
net=()
if [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
	echo "demo: $(id -un) cannot open /dev/net/tun, so the containers run with --network none (\"gocker doctor\" prints the fix)"
	net=(--network none)
fi

set -x
sh "$mkbusybox" "$work/rootfs"
# A previous demo's image is removed first, so that re-running the demo
# leaves no untagged image behind.
"$gocker" rmi busybox >/dev/null 2>&1 || true
"$gocker" init --change 'CMD ["sh"]' "$work/rootfs" busybox
"$gocker" images
echo "on the host: $(id -un) (uid $(id -u)), subordinate ids $(grep "^$(id -un):" /etc/subuid)"
"$gocker" run --rm "${net[@]}" --hostname demo busybox sh -c 'echo "in the container: $(id -un) (uid $(id -u)) on $(hostname), $(cat /etc/motd)"; cat /proc/self/uid_map'
"$gocker" run --name demo-ps "${net[@]}" busybox true
"$gocker" ps -a
"$gocker" rm demo-ps
