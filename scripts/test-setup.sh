#!/bin/bash
# test-setup.sh: prepare this machine for gocker's test suite. Run as root;
# it is idempotent and is what .ci/run and "make test" call first.
#
# - installs the Debian packages the tests drive (uidmap for newuidmap,
#   busybox-static for the default image, compressors, debootstrap,
#   slirp4netns, pasta (passt), nsenter (util-linux) and nft (nftables) for
#   the network tests);
# - creates the unprivileged user gockertest with subordinate ids and the
#   user gockernosub without any;
# - builds a Debian bookworm root filesystem with debootstrap once and
#   caches it as a tarball outside the repository;
# - builds the CNCF distribution registry from its Go module once, for the
#   pull and push tests, and caches the binary as $CACHE/bin/registry.
set -euo pipefail

CACHE=${GOCKER_TEST_CACHE:-/var/cache/gocker-test}
# Test users; GOCKER_TEST_USER lets several checkouts test side by side
# without seeing each other's processes.
TEST_USER=${GOCKER_TEST_USER:-gockertest}
NOSUB_USER=${GOCKER_TEST_NOSUB_USER:-gockernosub}
PACKAGES="uidmap busybox-static xz-utils zstd bzip2 debootstrap tar iproute2 util-linux slirp4netns passt nftables pass golang-docker-credential-helpers"

log() { echo "test-setup: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "test-setup: run as root (sudo $0): it installs packages and creates test users" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "installing$missing"
	apt-get -o DPkg::Lock::Timeout=600 update -q
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
fi

# The test user gets subordinate ids in a range no other user holds.
if ! id "$TEST_USER" >/dev/null 2>&1; then
	log "creating user $TEST_USER"
	useradd --create-home --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$TEST_USER"
fi
for f in /etc/subuid /etc/subgid; do
	touch "$f"
	if ! grep -q "^$TEST_USER:" "$f"; then
		start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
		echo "$TEST_USER:$start:65536" >> "$f"
		log "added $TEST_USER:$start:65536 to $f"
	fi
done
# A user without subordinate ids, for the error message test.
if ! id "$NOSUB_USER" >/dev/null 2>&1; then
	log "creating user $NOSUB_USER"
	useradd --create-home --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$NOSUB_USER"
fi
sed -i "/^$NOSUB_USER:/d" /etc/subuid /etc/subgid

# The Debian image: debootstrap needs a mirror; use the one apt uses.
mkdir -p "$CACHE"
tarball=$CACHE/debian-bookworm.tar.gz
if [ ! -s "$tarball" ]; then
	mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$mirror" ] || mirror=$(awk '$1=="deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	mirror=${mirror:-http://deb.debian.org/debian}
	rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
	log "debootstrap bookworm from $mirror (a few minutes, once)"
	debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 || {
		tail -20 "$CACHE/debootstrap.log" >&2
		rm -rf "$rootfs"
		exit 1
	}
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
	tar --numeric-owner -C "$rootfs" -czf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$rootfs"
	log "cached $tarball ($(du -h "$tarball" | cut -f1))"
fi
chmod 0644 "$tarball"

# The registry the pull and push tests run on 127.0.0.1.
REGISTRY_VERSION=v3.1.2
if [ ! -x "$CACHE/bin/registry-$REGISTRY_VERSION" ]; then
	GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
	log "building the distribution registry $REGISTRY_VERSION (once)"
	mkdir -p "$CACHE/bin"
	GOBIN=$CACHE/bin.tmp CGO_ENABLED=0 "$GO" install "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
	mv "$CACHE/bin.tmp/registry" "$CACHE/bin/registry-$REGISTRY_VERSION"
	rmdir "$CACHE/bin.tmp"
fi
ln -sfn "registry-$REGISTRY_VERSION" "$CACHE/bin/registry"
log "ready"
