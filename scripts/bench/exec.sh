#!/bin/bash
# exec.sh: measure "exec CONTAINER true" latency of rootless gocker against
# rootless Podman and the nsenter floor, side by side in one hyperfine run,
# and the resident memory of gocker's detached monitor beside Podman's
# conmon, as the unprivileged user gockerbench.
#
# Run as root ("sudo make bench"). The script:
# - installs hyperfine, podman, runc, uidmap, busybox-static and jq when
#   missing;
# - creates the user gockerbench with its own subordinate id range;
# - builds gocker twice: owned by root, as an installed binary is, and
#   owned by gockerbench, which makes gocker exec copy the binary into a
#   sealed memfd (see the container package documentation);
# - imports the image into gocker and Podman, starts one idle container
#   and one container that prints a line every 100 ms in each;
# - runs hyperfine as gockerbench, samples the memory of the monitors and
#   conmons, and prints a Markdown table;
# - removes everything it created except BENCH_DIR/results, and ends the
#   processes it started (Podman's rootless pause process included).
# It never changes the host's network namespace or cgroups.
#
# Environment:
#   BENCH_DIR             work directory (default /var/tmp/gocker-bench-exec);
#                         results go to BENCH_DIR/results
#   BENCH_ROOTFS_TARBALL  root filesystem tarball (default: the Alpine
#                         minirootfs 3.20.3 in ../shared/images next to the
#                         repository); when it is missing, a busybox root
#                         filesystem from scripts/mkbusybox.sh is used
#   BENCH_RUNS            timed runs per command (default 50)
#   BENCH_WARMUP          untimed warmup runs per command (default 5)
#   BENCH_SETTLE          seconds the containers run before their monitors'
#                         memory is sampled (default 20)
#   GO                    go binary (default: go in PATH, else /usr/local/go/bin/go)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_USER=gockerbench
BENCH_DIR=${BENCH_DIR:-/var/tmp/gocker-bench-exec}
BENCH_ROOTFS_TARBALL=${BENCH_ROOTFS_TARBALL:-$REPO/../shared/images/alpine-minirootfs-3.20.3-x86_64.tar.gz}
BENCH_RUNS=${BENCH_RUNS:-50}
BENCH_WARMUP=${BENCH_WARMUP:-5}
BENCH_SETTLE=${BENCH_SETTLE:-20}
PACKAGES="hyperfine podman runc uidmap busybox-static jq"
# Subdirectories of BENCH_DIR that this script creates and removes again.
WORK_SUBDIRS="bin userbin image gocker podman config data run"
# shellcheck source=scripts/bench/lib.sh
. "$REPO/scripts/bench/lib.sh"

bench_check_settings BENCH_RUNS BENCH_WARMUP BENCH_SETTLE
[ "$BENCH_RUNS" -ge 2 ] || die "BENCH_RUNS must be at least 2, got $BENCH_RUNS"
bench_install $PACKAGES
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || die "go not found in PATH or at /usr/local/go/bin/go: set GO=/path/to/go"
bench_create_user

RUN_DIR=$BENCH_DIR/run
RESULTS=$BENCH_DIR/results
GOCKER=$BENCH_DIR/bin/gocker
USER_GOCKER=$BENCH_DIR/userbin/gocker
GOCKER_ROOT=$BENCH_DIR/gocker
CTR=gocker-bench-exec
LOGGER=gocker-bench-log

install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR"
exec 9>"$BENCH_DIR/.lock"
flock -n 9 || die "another benchmark run holds the lock $BENCH_DIR/.lock: wait for it to finish or set BENCH_DIR to another directory"

podman_ready=0
gocker_ready=0
complete=0
JSON=""
cleanup() {
	local status=$?
	set +e
	cd /
	[ "$complete" = 1 ] || [ -z "$JSON" ] || rm -f "$JSON"
	if [ "$gocker_ready" = 1 ]; then
		as_bench "$GOCKER" --root "$GOCKER_ROOT" rm -f "$CTR" "$LOGGER" >/dev/null 2>&1
	fi
	if [ "$podman_ready" = 1 ]; then
		log "removing Podman's state (podman system reset -f)"
		as_bench podman system reset -f >/dev/null 2>&1 || log "podman system reset -f failed; its storage is removed below"
	fi
	bench_release
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_prepare_workdirs
cd "$BENCH_DIR"

log "building gocker"
GO="$GO" LDFLAGS="-s -w" "$REPO/scripts/build.sh" "$(dirname "$GOCKER")" -buildvcs=false -trimpath
chown root:root "$GOCKER"
chmod 0755 "$GOCKER"
install -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$GOCKER" "$USER_GOCKER"
GOCKER_COMMIT=$(git -c safe.directory="$REPO" -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)

TARBALL=$BENCH_DIR/image/rootfs.tar.gz
if [ -f "$BENCH_ROOTFS_TARBALL" ]; then
	IMAGE_NOTE="root filesystem: $(basename "$BENCH_ROOTFS_TARBALL")"
	install -o "$BENCH_USER" -g "$BENCH_USER" -m 0644 "$BENCH_ROOTFS_TARBALL" "$TARBALL"
else
	IMAGE_NOTE="root filesystem: busybox from scripts/mkbusybox.sh, because $BENCH_ROOTFS_TARBALL does not exist"
	install -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$REPO/scripts/mkbusybox.sh" "$BENCH_DIR/bin/mkbusybox.sh"
	as_bench sh "$BENCH_DIR/bin/mkbusybox.sh" "$BENCH_DIR/image/rootfs"
	as_bench tar --numeric-owner --owner=0 --group=0 -C "$BENCH_DIR/image/rootfs" -czf "$TARBALL" .
fi
log "$IMAGE_NOTE"
gocker_ready=1
as_bench "$GOCKER" --root "$GOCKER_ROOT" import "$TARBALL" bench >/dev/null

bench_podman_config
podman_ready=1
as_bench podman import --quiet "$TARBALL" localhost/bench:latest >/dev/null

# --- containers -----------------------------------------------------------
TICK='while :; do echo tick; sleep 0.1; done'
as_bench "$GOCKER" --root "$GOCKER_ROOT" run -d --pull never --name "$CTR" --network none bench sleep 100000 >/dev/null
as_bench "$GOCKER" --root "$GOCKER_ROOT" run -d --pull never --name "$LOGGER" --network none bench sh -c "$TICK" >/dev/null
as_bench podman run -d --pull never --name "$CTR" --network none localhost/bench:latest sleep 100000 >/dev/null
as_bench podman run -d --pull never --name "$LOGGER" --network none localhost/bench:latest sh -c "$TICK" >/dev/null
PID=$(as_bench "$GOCKER" --root "$GOCKER_ROOT" inspect -f '{{.State.Pid}}' "$CTR")
STARTED=$(date +%s)

names=(
	"gocker exec CTR true (binary owned by root)"
	"gocker exec CTR true (binary owned by the user: sealed copy)"
	"podman exec CTR true"
	"nsenter -t PID -U -m -p -n -i -u -r -w --preserve-credentials true"
)
cmds=(
	"$GOCKER --root $GOCKER_ROOT exec $CTR true"
	"$USER_GOCKER --root $GOCKER_ROOT exec $CTR true"
	"podman exec $CTR true"
	"nsenter -t $PID -U -m -p -n -i -u -r -w --preserve-credentials true"
)
for i in "${!cmds[@]}"; do
	# shellcheck disable=SC2086 # the command line is split into words on purpose
	out=$(as_bench ${cmds[$i]} 2>&1) || die "\"${names[$i]}\" failed before the benchmark: $out"
done

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSON=$RESULTS/exec-$STAMP.json
TABLE=$RESULTS/exec-$STAMP.md
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hf_args=(-N --warmup "$BENCH_WARMUP" --runs "$BENCH_RUNS" --export-json "$JSON")
for i in "${!cmds[@]}"; do
	hf_args+=(-n "${names[$i]}" "${cmds[$i]}")
done
log "running hyperfine: $BENCH_RUNS runs and $BENCH_WARMUP warmups per command"
as_bench hyperfine "${hf_args[@]}"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- memory ---------------------------------------------------------------
# VmRSS and VmHWM (the peak) from /proc/PID/status, Pss from
# /proc/PID/smaps_rollup, in KiB, once the containers ran BENCH_SETTLE
# seconds.
wait_for=$((STARTED + BENCH_SETTLE - $(date +%s)))
[ "$wait_for" -le 0 ] || sleep "$wait_for"
memory_row() {
	local what=$1 pid=$2 rss hwm pss
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
	pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
	awk -v w="$what" -v r="$rss" -v h="$hwm" -v p="$pss" \
		'BEGIN { printf "| %s | %.1f MiB | %.1f MiB | %.1f MiB |\n", w, r / 1024, h / 1024, p / 1024 }'
}
mem_rows=""
for c in "$CTR" "$LOGGER"; do
	what="idle (sleep)"
	[ "$c" = "$LOGGER" ] && what="printing 10 lines/s"
	mon=$(as_bench "$GOCKER" --root "$GOCKER_ROOT" inspect -f '{{.State.MonitorPid}}' "$c")
	conmon=$(as_bench podman inspect -f '{{.State.ConmonPid}}' "$c")
	mem_rows+=$(memory_row "gocker monitor, container $what" "$mon")$'\n'
	mem_rows+=$(memory_row "Podman conmon, container $what" "$conmon")$'\n'
done

# --- table ----------------------------------------------------------------
rows=$(jq -r '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	.results[] | [.command, (.median // (.times | median)),
		(.min // (.times | min)), (.max // (.times | max)), (.times | length)] | @tsv' "$JSON")
{
	echo "## Exec latency and monitor memory, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- $IMAGE_NOTE"
	echo "- host: Linux $(uname -r), $(nproc) CPUs, load average $load_before before and $load_after after hyperfine"
	echo "- versions: gocker $GOCKER_COMMIT built with $("$GO" env GOVERSION), $(podman --version), $(conmon --version | head -1), $(runc --version | head -1), $(hyperfine --version), $(nsenter --version)"
	echo "- hyperfine -N, $BENCH_WARMUP warmups and $BENCH_RUNS runs per command, as the user $BENCH_USER"
	echo
	echo "| command | median | min | max | runs | ratio to podman exec's median |"
	echo "|---|---:|---:|---:|---:|---:|"
	awk -F'\t' '{ cmd[NR] = $1; med[NR] = $2; lo[NR] = $3; hi[NR] = $4; n[NR] = $5; if ($1 ~ /^podman/) base = $2 }
		END { for (i = 1; i <= NR; i++) printf "| `%s` | %.1f ms | %.1f ms | %.1f ms | %d | %.3f |\n", cmd[i], med[i] * 1000, lo[i] * 1000, hi[i] * 1000, n[i], med[i] / base }' <<<"$rows"
	echo
	echo "Memory after the containers ran $BENCH_SETTLE s:"
	echo
	echo "| process | RSS | peak RSS | PSS |"
	echo "|---|---:|---:|---:|"
	printf '%s' "$mem_rows"
	echo
	echo "Command lines as run:"
	echo
	for i in "${!cmds[@]}"; do
		echo "- \`${cmds[$i]}\`"
	done
} >"$TABLE"
chown "$BENCH_USER:" "$TABLE"
complete=1
echo
cat "$TABLE"
echo
log "results: $JSON and $TABLE"
