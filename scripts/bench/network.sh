#!/bin/bash
# network.sh: measure TCP throughput through a published port (iperf3,
# one stream, client on the host side, server in the container). The rows
# are rootless gocker with slirp4netns, with pasta and with the bypass port
# handler, rootless Podman with its default port handler, and root gocker
# on its bridge and with the bypass port handler. Host loopback is the
# floor, and a Go splice proxy on loopback (scripts/bench/spliceproxy) is
# the floor of any userspace forwarder. Then it measures outbound
# throughput (client in the container, server one veth hop away) and the
# memory of the per-container network processes, sampled one second into
# the first run of each row. All rows run in one invocation.
#
# Run as root ("sudo make bench"). The script:
# - installs iperf3, podman, slirp4netns, passt, uidmap, busybox-static,
#   iproute2 and util-linux when missing;
# - creates the user gockerbench with its own subordinate id range;
# - creates two network namespaces joined by a veth pair, "host"
#   (198.51.100.1) and "uplink" (198.51.100.2), and runs every row inside
#   them, so that no port, route, rule or sysctl of the host's own network
#   namespace is used or changed;
# - runs the rootless rows in a private mount namespace where a tun node of
#   mode 0666 is bound over /dev/net/tun, because Debian 12 VMs of this
#   project have it 0600 root (the host's node is never changed);
# - builds an image with the host's iperf3, its shared libraries and
#   busybox for gocker (rootless and root) and Podman;
# - prints a Markdown table and writes it under BENCH_DIR/results;
# - removes everything it created except BENCH_DIR/results, and ends the
#   processes it started by PID.
#
# Environment:
#   BENCH_DIR      work directory (default /var/tmp/gocker-bench-net)
#   BENCH_REPS     timed iperf3 runs per row (default 3)
#   BENCH_SECONDS  length of each run in seconds (default 10)
#   GO             go binary (default: go in PATH, else /usr/local/go/bin/go)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_USER=gockerbench
BENCH_DIR=${BENCH_DIR:-/var/tmp/gocker-bench-net}
BENCH_REPS=${BENCH_REPS:-3}
BENCH_SECONDS=${BENCH_SECONDS:-10}
PACKAGES="iperf3 podman runc slirp4netns passt uidmap busybox-static iproute2 util-linux"
SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NS_HOST=gocker-bench-host
NS_UP=gocker-bench-uplink
UPLINK_SERVER=198.51.100.2
WORK_SUBDIRS="bin image gocker rootgocker rootrun podman config data run tun"

log() { echo "bench: $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0): it installs packages, creates network namespaces and the user $BENCH_USER"
case $BENCH_DIR in
/ | *[[:space:]\'\"\\]*) die "BENCH_DIR must be a directory of its own without spaces or quotes, got \"$BENCH_DIR\"" ;;
/*) BENCH_DIR=${BENCH_DIR%/} ;;
*) die "BENCH_DIR must be an absolute path, got \"$BENCH_DIR\"" ;;
esac
for n in BENCH_REPS BENCH_SECONDS; do
	case ${!n} in
	'' | *[!0-9]* | 0) die "$n must be a positive whole number, got \"${!n}\"" ;;
	esac
done

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "installing$missing"
	apt-get -o DPkg::Lock::Timeout=600 update -q
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
fi
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || die "go not found in PATH or at /usr/local/go/bin/go: set GO=/path/to/go"

if ! id "$BENCH_USER" >/dev/null 2>&1; then
	log "creating user $BENCH_USER"
	useradd --create-home --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$BENCH_USER"
fi
for f in /etc/subuid /etc/subgid; do
	touch "$f"
	if ! grep -q "^$BENCH_USER:" "$f"; then
		start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
		echo "$BENCH_USER:$start:65536" >>"$f"
		log "added $BENCH_USER:$start:65536 to $f"
	fi
done
BENCH_UID=$(id -u "$BENCH_USER")
BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)

RUN_DIR=$BENCH_DIR/run
RESULTS=$BENCH_DIR/results
GOCKER=$BENCH_DIR/bin/gocker
TUN=$BENCH_DIR/tun/tun
install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR"
exec 9>"$BENCH_DIR/.lock"
flock -n 9 || die "another benchmark run holds the lock $BENCH_DIR/.lock: wait for it or set BENCH_DIR to another directory"

# IN_HOST runs a command as root in the "host" namespace. Like AS_BENCH
# and ROOT_GOCKER it is an array, not a function, so that $! of a command
# started in the background is the command's own PID (nsenter executes
# it), which the cleanup can end.
IN_HOST=(nsenter --net="/run/netns/$NS_HOST" --)
in_host() { "${IN_HOST[@]}" "$@"; }

# AS_BENCH runs a command as the bench user in the "host" namespace, in a
# private mount namespace with a usable tun node. Each program in it
# executes the next, so that $! of a background command is the last one's
# PID.
AS_BENCH=(nsenter --net="/run/netns/$NS_HOST" -- unshare --mount --propagation private -- /bin/sh -c
	'u=$1; shift; mount --bind "$0" /dev/net/tun && exec setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"' "$TUN" "$BENCH_USER"
	env -i HOME="$BENCH_HOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" PATH="$SAFE_PATH" LANG=C
	XDG_RUNTIME_DIR="$RUN_DIR" XDG_CONFIG_HOME="$BENCH_DIR/config" XDG_DATA_HOME="$BENCH_DIR/data")
as_bench() { "${AS_BENCH[@]}" "$@"; }

# ROOT_GOCKER is root's gocker in the "host" namespace, with its own store
# and runtime directory.
ROOT_GOCKER=(nsenter --net="/run/netns/$NS_HOST" -- env GOCKER_RUNTIME_DIR="$BENCH_DIR/rootrun" "$GOCKER" --root "$BENCH_DIR/rootgocker")

STARTED=""
podman_ready=0
cleanup() {
	local status=$? pid d
	set +e
	for pid in $STARTED; do
		kill "$pid" 2>/dev/null
	done
	for pid in $STARTED; do
		wait "$pid" 2>/dev/null
	done
	if [ "$podman_ready" = 1 ]; then
		as_bench podman system reset -f >/dev/null 2>&1 || log "podman system reset -f failed; its storage is removed below"
	fi
	for pid in $(pgrep -u "$BENCH_UID" || true); do
		if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "XDG_RUNTIME_DIR=$RUN_DIR"; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	ip netns del "$NS_HOST" 2>/dev/null
	ip netns del "$NS_UP" 2>/dev/null
	for d in $WORK_SUBDIRS; do
		rm -rf "${BENCH_DIR:?}/$d"
	done
	rm -f "$BENCH_DIR/.lock"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for d in $WORK_SUBDIRS; do
	rm -rf "${BENCH_DIR:?}/$d"
done
for d in $WORK_SUBDIRS results; do
	install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR/$d"
done
chmod 0700 "$RUN_DIR" "$BENCH_DIR/tun"
chown root: "$BENCH_DIR/tun" "$BENCH_DIR/rootgocker" "$BENCH_DIR/rootrun"
mknod -m 0666 "$TUN" c 10 200

# --- namespaces -----------------------------------------------------------
ip netns del "$NS_HOST" 2>/dev/null || true
ip netns del "$NS_UP" 2>/dev/null || true
ip netns add "$NS_HOST"
ip netns add "$NS_UP"
ip -n "$NS_HOST" link set lo up
ip -n "$NS_UP" link set lo up
ip -n "$NS_HOST" link add gbench0 type veth peer name gbench1 netns "$NS_UP"
ip -n "$NS_HOST" addr add 198.51.100.1/24 dev gbench0
ip -n "$NS_HOST" link set gbench0 up
ip -n "$NS_HOST" route add default via "$UPLINK_SERVER"
ip -n "$NS_UP" addr add "$UPLINK_SERVER/24" dev gbench1
ip -n "$NS_UP" link set gbench1 up

# --- gocker and the image -------------------------------------------------
log "building gocker"
GO="$GO" "$REPO/scripts/build.sh" "$(dirname "$GOCKER")" -buildvcs=false -trimpath
(cd "$REPO" && CGO_ENABLED=0 "$GO" build -buildvcs=false -trimpath -o "$BENCH_DIR/bin/spliceproxy" ./scripts/bench/spliceproxy)
chmod 0755 "$GOCKER"
GOCKER_COMMIT=$(git -c safe.directory="$REPO" -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)

# The image: busybox plus the host's iperf3 with its shared libraries and
# loader in /opt/iperf3, started through a wrapper script.
ROOTFS=$BENCH_DIR/image/rootfs
install -d -o "$BENCH_USER" -g "$BENCH_USER" "$ROOTFS"
runuser -u "$BENCH_USER" -- sh "$REPO/scripts/mkbusybox.sh" "$ROOTFS" >/dev/null
install -d "$ROOTFS/opt/iperf3"
cp -L /usr/bin/iperf3 "$ROOTFS/opt/iperf3/"
for lib in $(ldd /usr/bin/iperf3 | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
	cp -L "$lib" "$ROOTFS/opt/iperf3/"
done
cat >"$ROOTFS/bin/iperf3" <<'EOF'
#!/bin/sh
exec /opt/iperf3/ld-linux-x86-64.so.2 --library-path /opt/iperf3 /opt/iperf3/iperf3 "$@"
EOF
chmod 0755 "$ROOTFS/bin/iperf3"
chown -R "$BENCH_USER:" "$ROOTFS"
tar --numeric-owner --owner=0 --group=0 -C "$ROOTFS" -czf "$BENCH_DIR/image/iperf3.tar.gz" .
chown "$BENCH_USER:" "$BENCH_DIR/image/iperf3.tar.gz"
as_bench "$GOCKER" --root "$BENCH_DIR/gocker" import --change 'CMD ["iperf3", "-s"]' "$BENCH_DIR/image/iperf3.tar.gz" iperf3 >/dev/null
"${ROOT_GOCKER[@]}" import --change 'CMD ["iperf3", "-s"]' "$BENCH_DIR/image/iperf3.tar.gz" iperf3 >/dev/null

install -d -o "$BENCH_USER" -g "$BENCH_USER" "$BENCH_DIR/config/containers"
cat >"$BENCH_DIR/config/containers/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$BENCH_DIR/podman/storage"
runroot = "$RUN_DIR/containers"
EOF
cat >"$BENCH_DIR/config/containers/containers.conf" <<EOF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
chown -R "$BENCH_USER:" "$BENCH_DIR/config"
podman_ready=1
as_bench podman import --quiet "$BENCH_DIR/image/iperf3.tar.gz" localhost/iperf3:latest >/dev/null

# --- measurements ---------------------------------------------------------
CSV=$RESULTS/network-$(date -u +%Y%m%dT%H%M%SZ).csv
MEM=${CSV%.csv}-memory.txt
echo "row,run,gbit_per_s" >"$CSV"

# gbits reads iperf3's JSON report and prints the received rate in Gbit/s.
gbits() {
	python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.2f" % (r["end"]["sum_received"]["bits_per_second"]/1e9))'
}

# wait_iperf waits until an iperf3 server responds through 127.0.0.1:PORT
# in the "host" namespace. The one-second runs are the warmup.
wait_iperf() {
	local port=$1 i
	for i in $(seq 1 100); do
		if in_host iperf3 -c 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "no iperf3 server responded on 127.0.0.1:$port within 20 seconds"
}

# measure_inbound ROW PORT: timed runs of the host-side client.
measure_inbound() {
	local row=$1 port=$2 run
	for run in $(seq 1 "$BENCH_REPS"); do
		echo "$row,$run,$(in_host iperf3 -c 127.0.0.1 -p "$port" -t "$BENCH_SECONDS" -J | gbits)" >>"$CSV"
	done
}

# memory ROW PID...: RSS and PSS of the network processes in the process
# tree of PID (the monitor or Podman's processes), while a run goes on.
memory() {
	local row=$1 pid
	shift
	local rss pss
	for pid in "$@"; do
		rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
		pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
		# The process name, and argv[0] where Podman's helpers differ.
		printf '%-20s %-12s %-20s RSS %6s kB  PSS %6s kB\n' "$row" "$(cat "/proc/$pid/comm")" \
			"$(tr '\0' '\n' <"/proc/$pid/cmdline" | head -1 | xargs basename)" "$rss" "$pss" >>"$MEM"
	done
}

# network_pids: the monitors and network helpers of containers that run
# now: gocker's monitor ("gocker ... run") and port driver child
# ("gocker-port"), slirp4netns, pasta, and Podman's conmon and
# rootlessport.
network_pids() {
	local dir comm cmdline
	for dir in /proc/[0-9]*; do
		comm=$(cat "$dir/comm" 2>/dev/null) || continue
		cmdline=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
		case $comm:$cmdline in
		gocker:*" run "* | gocker-port:* | slirp4netns:* | conmon:* | *:pasta* | *:rootlessport*) echo "${dir#/proc/}" ;;
		esac
	done
}

log "row 1: host loopback (floor)"
"${IN_HOST[@]}" iperf3 -s -p 15201 >/dev/null 2>&1 &
STARTED="$STARTED $!"
wait_iperf 15201
measure_inbound loopback 15201

log "row: Go splice proxy 127.0.0.1:15205 to the loopback server (floor of a forwarder)"
"${IN_HOST[@]}" "$BENCH_DIR/bin/spliceproxy" 127.0.0.1:15205 127.0.0.1:15201 &
proxy=$!
STARTED="$STARTED $proxy"
wait_iperf 15205
(sleep 1 && memory splice-proxy "$proxy") &
measure_inbound splice-proxy 15205

# The bypass row hands the host's listening socket to iperf3 in the
# container. allow_host_loopback=true lets it run on kernels that refuse
# the socket filter of that mode to users; the data path is the same.
BYPASS=slirp4netns:allow_host_loopback=true,port_handler=bypass
for mode in slirp4netns pasta "$BYPASS"; do
	row=gocker-$mode
	[ "$mode" = "$BYPASS" ] && row=gocker-bypass
	log "row: gocker rootless --network $mode -p 127.0.0.1:15202:5201"
	"${AS_BENCH[@]}" "$GOCKER" --root "$BENCH_DIR/gocker" run --rm --pull never --network "$mode" -p 127.0.0.1:15202:5201 iperf3 >/dev/null 2>&1 &
	pid=$!
	wait_iperf 15202
	(sleep 1 && memory "$row" $(network_pids)) &
	measure_inbound "$row" 15202
	kill "$pid"
	wait "$pid" || true
done

log "row: podman rootless default -p 127.0.0.1:15203:5201"
as_bench podman run -d --rm --pull never --name bench-iperf3 -p 127.0.0.1:15203:5201 localhost/iperf3:latest iperf3 -s >/dev/null
wait_iperf 15203
(sleep 1 && memory podman $(network_pids)) &
measure_inbound podman 15203
as_bench podman rm -f bench-iperf3 >/dev/null

log "row: gocker root --network bridge -p 127.0.0.1:15204:5201"
"${ROOT_GOCKER[@]}" run --rm --pull never -p 127.0.0.1:15204:5201 iperf3 >/dev/null 2>&1 &
pid=$!
wait_iperf 15204
(sleep 1 && memory gocker-bridge $(network_pids)) &
measure_inbound gocker-bridge 15204
kill "$pid"
wait "$pid" || true

# Root's sockets get the bypass mode's socket filter, which users' do not
# on current kernels: this row shows what the filter costs.
log "row: gocker root --network slirp4netns:port_handler=bypass -p 127.0.0.1:15206:5201"
"${ROOT_GOCKER[@]}" run --rm --pull never --network slirp4netns:port_handler=bypass -p 127.0.0.1:15206:5201 iperf3 >/dev/null 2>&1 &
pid=$!
wait_iperf 15206
measure_inbound gocker-root-bypass 15206
kill "$pid"
wait "$pid" || true

log "outbound rows: client in the container, server on $UPLINK_SERVER"
nsenter --net="/run/netns/$NS_UP" -- iperf3 -s -p 5202 >/dev/null 2>&1 &
STARTED="$STARTED $!"
sleep 0.5
for run in $(seq 1 "$BENCH_REPS"); do
	echo "out-veth,$run,$(in_host iperf3 -c "$UPLINK_SERVER" -p 5202 -t "$BENCH_SECONDS" -J | gbits)" >>"$CSV"
	for mode in slirp4netns pasta; do
		echo "out-gocker-$mode,$run,$(as_bench "$GOCKER" --root "$BENCH_DIR/gocker" run --rm --pull never --network "$mode" iperf3 \
			iperf3 -c "$UPLINK_SERVER" -p 5202 -t "$BENCH_SECONDS" -J | gbits)" >>"$CSV"
	done
	echo "out-gocker-bridge,$run,$("${ROOT_GOCKER[@]}" run --rm --pull never iperf3 iperf3 -c "$UPLINK_SERVER" -p 5202 -t "$BENCH_SECONDS" -J | gbits)" >>"$CSV"
done

# --- report ---------------------------------------------------------------
TABLE=${CSV%.csv}.md
python3 - "$CSV" >"$TABLE" <<'EOF'
import csv, statistics, sys
rows = {}
for r in csv.DictReader(open(sys.argv[1])):
    rows.setdefault(r["row"], []).append(float(r["gbit_per_s"]))
names = {
    "loopback": "host loopback, `iperf3 -s` in the host namespace (floor)",
    "splice-proxy": "Go splice proxy on loopback to that server (forwarder floor)",
    "gocker-slirp4netns": "gocker rootless `--network slirp4netns -p`",
    "gocker-pasta": "gocker rootless `--network pasta -p`",
    "gocker-bypass": "gocker rootless `--network slirp4netns:allow_host_loopback=true,port_handler=bypass -p`",
    "podman": "Podman rootless default (slirp4netns, rootlessport)",
    "gocker-bridge": "gocker root `--network bridge -p` (DNAT)",
    "gocker-root-bypass": "gocker root `--network slirp4netns:port_handler=bypass -p` (with the socket filter)",
    "out-veth": "outbound floor: host namespace to uplink over the veth",
    "out-gocker-slirp4netns": "outbound: gocker rootless slirp4netns",
    "out-gocker-pasta": "outbound: gocker rootless pasta",
    "out-gocker-bridge": "outbound: gocker root bridge (MASQUERADE)",
}
floor = statistics.median(rows["loopback"])
print("| path | median Gbit/s | min | max | runs | of loopback |")
print("|---|---:|---:|---:|---:|---:|")
for key, label in names.items():
    v = rows.get(key)
    if not v:
        continue
    m = statistics.median(v)
    share = "%.0f%%" % (100 * m / floor) if not key.startswith("out-") else ""
    print("| %s | **%.1f** | %.1f | %.1f | %d | %s |" % (label, m, min(v), max(v), len(v), share))
EOF
{
	echo
	echo "- gocker $GOCKER_COMMIT, $(podman --version), $(iperf3 --version | head -1), $(slirp4netns --version | head -1), pasta $(dpkg-query -W -f='${Version}' passt), kernel $(uname -r), $(nproc) CPUs"
	echo "- $BENCH_REPS runs of ${BENCH_SECONDS}s per row, one TCP stream; raw data: $CSV"
	echo
	echo "Memory of the network processes during the first run of each row (VmRSS, and PSS from smaps_rollup):"
	echo
	echo '```'
	cat "$MEM" 2>/dev/null
	echo '```'
} >>"$TABLE"
chown -R "$BENCH_USER:" "$RESULTS"
cat "$TABLE"
