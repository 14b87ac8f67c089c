#!/bin/bash
# guest.sh: the systemd test guest. It builds a Debian bookworm virtual
# machine from Debian's packages (debootstrap, the Debian kernel, systemd with
# cgroup v2, a lingering user with subordinate ids), caches it, and boots it
# with qemu to run test/vm/suite.sh inside against a gocker binary.
#
#   guest.sh build            build the guest image unless the cache is current
#   guest.sh test GOCKER [SCRIPT]
#                             build if needed, boot, run the suite (or
#                             SCRIPT, as root, from the 9p share), power off
#   guest.sh ci GOCKER        the same, but skip with a message where the
#                             guest cannot be built or booted (not root,
#                             not x86_64, no qemu or no Debian mirror)
#   guest.sh shell            boot to a root login on the serial console
#                             (no password; leave qemu with Ctrl-a x)
#   guest.sh clean            remove the cache
#
# Run as root: debootstrap and chroot need it. The guest has no network
# device; gocker, the suite and the results travel through a 9p share.
#
# Environment:
#   GOCKER_VM_DIR     cache directory (default /var/cache/gocker-vm)
#   GOCKER_VM_ACCEL   kvm or tcg (default: kvm when /dev/kvm can boot the
#                     Debian kernel, else tcg)
#   GOCKER_VM_MIRROR  Debian mirror (default: the one this host's apt uses)
#   GOCKER_VM_TIMEOUT seconds for boot, suite and power-off (default 1200)
#   GOCKER_VM_BENCH   1 runs the start latency benchmark in the guest too;
#                     "only" runs it without the suite
#   GOCKER_VM_BENCH_RUNS  timed runs per benchmark row (default 30)
#   GOCKER_VM_BENCH_ROUNDS  rounds the runs are split into (default 1): each
#                     round times every row, so that a change of the host's
#                     load over time hits all rows alike
#   GOCKER_VM_BASELINE a second gocker binary for the benchmark to time side
#                     by side with GOCKER, row by row (A/B)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_DIR=${GOCKER_VM_DIR:-/var/cache/gocker-vm}
TIMEOUT=${GOCKER_VM_TIMEOUT:-1200}
SUITE=bookworm
TEST_USER=gtest
TEST_UID=1000
# The guest's packages. hyperfine is for the start latency benchmark.
PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,udev,kmod
PACKAGES=$PACKAGES,linux-image-amd64,initramfs-tools,zstd
PACKAGES=$PACKAGES,uidmap,busybox-static,procps,hyperfine
# iproute2: the end-to-end harness runs root's commands in a network
# namespace it creates with ip.
PACKAGES=$PACKAGES,iproute2
# Host tools: debootstrap, mkfs.ext4 -d (e2fsprogs) to write the image
# without a loop device, and qemu.
HOST_PACKAGES="debootstrap e2fsprogs qemu-system-x86"

log() { echo "guest: $*" >&2; }
die() {
	log "$*"
	exit 1
}
now() { date +%s; }

# cache_key changes whenever the packages or this script's guest
# configuration change, which invalidates the cached image.
cache_key() {
	{
		echo "$SUITE $PACKAGES"
		sed -n '/^configure_rootfs()/,/^}/p' "${BASH_SOURCE[0]}"
		cat "$HERE/runner.sh"
	} | sha256sum | cut -c1-16
}

install_host_tools() {
	local missing="" p
	for p in $HOST_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing$missing"
	apt-get -o DPkg::Lock::Timeout=600 update -q
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
}

debian_mirror() {
	local m=${GOCKER_VM_MIRROR:-}
	[ -n "$m" ] || m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[ -n "$m" ] || m=$(awk '$1=="deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	echo "${m:-http://deb.debian.org/debian}"
}

cmd_build() {
	[ "$(id -u)" = 0 ] || die "build as root: debootstrap and chroot need it"
	local key
	key=$(cache_key)
	if [ -f "$VM_DIR/guest.img" ] && [ "$(cat "$VM_DIR/key" 2>/dev/null)" = "$key" ]; then
		log "cached guest $VM_DIR (key $key)"
		return 0
	fi
	install_host_tools
	mkdir -p "$VM_DIR"
	exec 8>"$VM_DIR/.build.lock"
	flock 8
	local start rootfs
	start=$(now)
	rootfs=$VM_DIR/rootfs
	rm -rf "$rootfs" "$VM_DIR/guest.img" "$VM_DIR/key"
	# The debootstrap tree is the slow part, because it downloads and
	# unpacks every package. It is kept as a tarball keyed by the package
	# list alone, so a change to the guest's configuration rebuilds only
	# the image.
	local base="$VM_DIR/base-$(echo "$SUITE $PACKAGES" | sha256sum | cut -c1-16).tar"
	if [ -f "$base" ]; then
		mkdir -p "$rootfs"
		tar -C "$rootfs" -xf "$base"
	else
		log "debootstrap $SUITE from $(debian_mirror) (several minutes, once)"
		debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$(debian_mirror)" \
			>"$VM_DIR/debootstrap.log" 2>&1 || {
			tail -20 "$VM_DIR/debootstrap.log" >&2
			die "debootstrap failed; the whole log is $VM_DIR/debootstrap.log"
		}
		rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
		rm -f "$VM_DIR"/base-*.tar
		tar --numeric-owner --xattrs -C "$rootfs" -cf "$base.tmp" . && mv "$base.tmp" "$base"
		log "debootstrap done after $(($(now) - start))s"
	fi
	configure_rootfs "$rootfs"
	cp "$rootfs"/boot/vmlinuz-* "$VM_DIR/vmlinuz"
	cp "$rootfs"/boot/initrd.img-* "$VM_DIR/initrd.img"
	# mkfs.ext4 -d copies the tree with owners, modes, setuid bits and
	# extended attributes (newuidmap's file capabilities) into the image.
	mkfs.ext4 -q -F -L gocker-root -d "$rootfs" "$VM_DIR/guest.img.tmp" 3G
	mv "$VM_DIR/guest.img.tmp" "$VM_DIR/guest.img"
	rm -rf "$rootfs"
	echo "$key" >"$VM_DIR/key"
	log "guest built in $(($(now) - start))s (key $key)"
}

# configure_rootfs turns the debootstrap tree into the test guest.
configure_rootfs() {
	local r=$1
	echo gocker-vm >"$r/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 gocker-vm\n' >"$r/etc/hosts"
	echo '/dev/vda / ext4 rw,relatime 0 1' >"$r/etc/fstab"
	chroot "$r" passwd -d root >/dev/null
	chroot "$r" useradd --create-home --uid "$TEST_UID" --shell /bin/bash "$TEST_USER"
	echo "$TEST_USER:100000:65536" >"$r/etc/subuid"
	echo "$TEST_USER:100000:65536" >"$r/etc/subgid"
	# Lingering (loginctl enable-linger) starts user@UID.service at boot.
	mkdir -p "$r/var/lib/systemd/linger"
	touch "$r/var/lib/systemd/linger/$TEST_USER"
	# Debian 12's user@.service delegates memory, pids and cpu (systemd 252,
	# "Delegate=pids memory cpu"). The suite checks the error for cpuset
	# without a drop-in, then adds one.
	# The initrd only needs to find /dev/vda and the 9p share.
	sed -i 's/^MODULES=.*/MODULES=list/' "$r/etc/initramfs-tools/initramfs.conf"
	printf 'virtio_pci\nvirtio_blk\next4\n9p\n9pnet_virtio\n' >>"$r/etc/initramfs-tools/modules"
	chroot "$r" update-initramfs -u -k all >/dev/null 2>&1
	install -m 0755 "$HERE/runner.sh" "$r/usr/local/sbin/gocker-vm-runner"
	cat >"$r/etc/systemd/system/gocker-vm-runner.service" <<-UNIT
		[Unit]
		Description=gocker test suite from the 9p share
		After=multi-user.target user@$TEST_UID.service
		Wants=user@$TEST_UID.service
		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/gocker-vm-runner
		StandardOutput=journal+console
		StandardError=journal+console
		[Install]
		WantedBy=multi-user.target
	UNIT
	ln -sf /etc/systemd/system/gocker-vm-runner.service \
		"$r/etc/systemd/system/multi-user.target.wants/gocker-vm-runner.service"
	mkdir -p "$r/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=volatile\n' >"$r/etc/systemd/journald.conf.d/volatile.conf"
	# Units the guest does not need, which slow its boot under emulation.
	local unit
	for unit in systemd-networkd-wait-online.service e2scrub_reap.service \
		apt-daily.timer apt-daily-upgrade.timer man-db.timer fstrim.timer \
		systemd-timesyncd.service getty@tty1.service; do
		ln -sf /dev/null "$r/etc/systemd/system/$unit"
	done
}

# accel_args prints qemu's accelerator options. A /dev/kvm backed by the
# kvm_pvm module (nested virtualization without VMX or SVM) runs only
# PVM-enabled kernels and hangs the Debian kernel early in boot, so such
# hosts use TCG, qemu's software emulation.
accel_args() {
	local accel=${GOCKER_VM_ACCEL:-}
	if [ -z "$accel" ]; then
		accel=tcg
		if [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ]; then
			accel=kvm
		fi
	fi
	case $accel in
	# qemu 7.2 fails to set MSR 0x10a on some nested KVM hosts unless the
	# CPU model leaves out arch-capabilities.
	kvm) echo "-enable-kvm -cpu host,-arch-capabilities" ;;
	tcg) echo "-accel tcg,thread=multi -cpu max" ;;
	*) die "GOCKER_VM_ACCEL must be kvm or tcg, got \"$accel\"" ;;
	esac
}

# boot LIMIT SHARE [KERNEL-ARGS...] boots the guest with SHARE as its 9p
# share and kills it after LIMIT seconds. -snapshot keeps guest.img
# unchanged: the guest's writes go to a temporary overlay.
boot() {
	local limit=$1 share=$2 accel
	shift 2
	accel=$(accel_args) || exit 1
	# shellcheck disable=SC2086 # accel holds several words
	timeout --foreground "$limit" qemu-system-x86_64 $accel -m 2048 -smp 2 -nographic -no-reboot \
		-kernel "$VM_DIR/vmlinuz" -initrd "$VM_DIR/initrd.img" \
		-append "console=ttyS0 root=/dev/vda rw systemd.unified_cgroup_hierarchy=1 panic=-1 $*" \
		-drive file="$VM_DIR/guest.img",format=raw,if=virtio -snapshot \
		-virtfs local,path="$share",mount_tag=share,security_model=none,id=share \
		-nic none
}

cmd_test() {
	local gocker=${1:?usage: guest.sh test GOCKER-BINARY [SCRIPT]} script=${2:-$HERE/suite.sh}
	[ -x "$gocker" ] || die "$gocker is not an executable gocker binary"
	cmd_build
	local share start rc
	share=$(mktemp -d /tmp/gocker-vm-share.XXXXXX)
	# shellcheck disable=SC2064 # expand now: share is local
	trap "rm -rf '$share'" EXIT
	install -m 0755 "$gocker" "$share/gocker"
	# The container init binary that "make build" writes next to gocker.
	if [ -x "$gocker-init" ]; then
		install -m 0755 "$gocker-init" "$share/gocker-init"
	fi
	install -m 0755 "$script" "$share/suite.sh"
	install -m 0755 "$HERE/../../scripts/mkbusybox.sh" "$share/mkbusybox.sh"
	if [ -n "${GOCKER_VM_BASELINE:-}" ]; then
		[ -x "$GOCKER_VM_BASELINE" ] || die "GOCKER_VM_BASELINE=$GOCKER_VM_BASELINE is not an executable gocker binary"
		install -m 0755 "$GOCKER_VM_BASELINE" "$share/gocker-base"
	fi
	# The limit tests of the end-to-end suite run in the guest too.
	(cd "$HERE/../.." && CGO_ENABLED=0 go test -c -tags integration -o "$share/e2e.test" ./test/) ||
		die "cannot compile the end-to-end tests (go test -c): is Go on \$PATH?"
	printf 'GOCKER_VM_BENCH=%s\nGOCKER_VM_BENCH_RUNS=%s\nGOCKER_VM_BENCH_ROUNDS=%s\n' \
		"${GOCKER_VM_BENCH:-0}" "${GOCKER_VM_BENCH_RUNS:-30}" "${GOCKER_VM_BENCH_ROUNDS:-1}" >"$share/settings"
	start=$(now)
	log "booting ($(accel_args | cut -d' ' -f1-2)); console in $VM_DIR/console.log"
	boot "$TIMEOUT" "$share" quiet </dev/null >"$VM_DIR/console.log" 2>&1 || log "qemu exited with status $?"
	log "boot, suite and power-off took $(($(now) - start))s"
	if [ ! -f "$share/rc" ]; then
		tail -40 "$VM_DIR/console.log" >&2
		die "the suite did not finish; the console log is $VM_DIR/console.log"
	fi
	cp "$share/out.log" "$VM_DIR/out.log"
	cat "$share/out.log"
	if [ -f "$share/bench.json" ]; then
		rm -f "$VM_DIR"/bench*.json
		cp "$share"/bench*.json "$VM_DIR/"
		log "benchmark results in $VM_DIR/bench.json (one bench-N.json per round)"
	fi
	rc=$(cat "$share/rc")
	return "$rc"
}

# skip prints why the suite cannot run here and ends the script with
# success.
skip() {
	echo "guest: SKIP: $*" >&2
	exit 0
}

cmd_ci() {
	[ "$(id -u)" = 0 ] || skip "the systemd guest needs root to build (debootstrap, chroot)"
	[ "$(uname -m)" = x86_64 ] || skip "the systemd guest is an x86_64 machine and this host is $(uname -m)"
	# A separate shell keeps "set -e" in force, which a function called
	# on the left of || would lose.
	bash "${BASH_SOURCE[0]}" build || skip "cannot build the guest: see the messages above"
	cmd_test "$@"
}

cmd_shell() {
	cmd_build
	local share
	share=$(mktemp -d /tmp/gocker-vm-share.XXXXXX)
	boot 86400 "$share" gocker.shell
	rm -rf "$share"
}

cmd_clean() {
	rm -rf "$VM_DIR"
}

case ${1:-} in
build | shell | clean)
	c=$1
	shift
	"cmd_$c" "$@"
	;;
test | ci)
	c=$1
	shift
	"cmd_$c" "$@"
	;;
*)
	sed -n '2,/^set -e/{/^#/p}' "$0" >&2
	exit 2
	;;
esac
