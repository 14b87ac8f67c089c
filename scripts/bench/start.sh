#!/bin/bash
# start.sh: measure container start+exit latency ("run IMAGE true") of
# rootless gocker against rootless Podman, runc and the kernel floor, side by
# side in one hyperfine run, as the unprivileged user gockerbench.
#
# Run as root ("sudo make bench"). The script:
# - installs hyperfine, podman, runc, uidmap, busybox-static and jq when
#   missing;
# - creates the user gockerbench with its own subordinate id range;
# - builds gocker and prepares the image, Podman's storage and a runc bundle
#   under BENCH_DIR, owned by gockerbench;
# - runs hyperfine as gockerbench and prints a Markdown table;
# - removes everything it created except BENCH_DIR/results, and ends the
#   processes it started (Podman's rootless pause process included).
# It never changes the host's network namespace or cgroups.
#
# Environment:
#   BENCH_DIR             work directory (default /var/tmp/gocker-bench);
#                         results go to BENCH_DIR/results
#   BENCH_ROOTFS_TARBALL  root filesystem tarball (default: the Alpine
#                         minirootfs 3.20.3 in ../shared/images next to the
#                         repository); when it is missing, a busybox root
#                         filesystem from scripts/mkbusybox.sh is used
#   BENCH_RUNS            timed runs per command (default 30)
#   BENCH_WARMUP          untimed warmup runs per command (default 3)
#   GO                    go binary (default: go in PATH, else /usr/local/go/bin/go)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_USER=gockerbench
BENCH_DIR=${BENCH_DIR:-/var/tmp/gocker-bench}
BENCH_ROOTFS_TARBALL=${BENCH_ROOTFS_TARBALL:-$REPO/../shared/images/alpine-minirootfs-3.20.3-x86_64.tar.gz}
BENCH_RUNS=${BENCH_RUNS:-30}
BENCH_WARMUP=${BENCH_WARMUP:-3}
PACKAGES="hyperfine podman runc uidmap busybox-static jq"
# Subdirectories of BENCH_DIR that this script creates and removes again.
# BENCH_DIR itself may be a directory the caller chose, so the script never
# removes it as a whole.
WORK_SUBDIRS="bin image gocker podman bundle config data run"
# shellcheck source=scripts/bench/lib.sh
. "$REPO/scripts/bench/lib.sh"

bench_check_settings BENCH_RUNS BENCH_WARMUP
[ "$BENCH_RUNS" -ge 2 ] || die "BENCH_RUNS must be at least 2, got $BENCH_RUNS"
bench_install $PACKAGES

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
[ -x "$GO" ] || die "go not found in PATH or at /usr/local/go/bin/go: set GO=/path/to/go"
bench_create_user

# --- work directory -------------------------------------------------------
RUN_DIR=$BENCH_DIR/run # XDG_RUNTIME_DIR of the bench user, mode 0700
RESULTS=$BENCH_DIR/results
GOCKER=$BENCH_DIR/bin/gocker
GOCKER_ROOT=$BENCH_DIR/gocker
BUNDLE=$BENCH_DIR/bundle
RUNC_ID=gocker-bench-runc

install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR"
exec 9>"$BENCH_DIR/.lock"
flock -n 9 || die "another benchmark run holds the lock $BENCH_DIR/.lock: wait for it to finish or set BENCH_DIR to another directory"

podman_ready=0
JSON=""
complete=0
cleanup() {
	local status=$?
	set +e
	cd /
	# hyperfine writes its JSON file before the first run ends, so an
	# interrupted run leaves a partial file without a table.
	if [ "$complete" = 0 ] && [ -n "$JSON" ]; then
		rm -f "$JSON"
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

# --- gocker ---------------------------------------------------------------
log "building gocker"
# -buildvcs=false: root runs the build, and git refuses to read a repository
# owned by another user ("dubious ownership"), which would fail VCS stamping
# and so the build.
GO="$GO" "$REPO/scripts/build.sh" "$(dirname "$GOCKER")" -buildvcs=false
chmod 0755 "$GOCKER"
GOCKER_COMMIT=$(git -c safe.directory="$REPO" -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)

# --- image ----------------------------------------------------------------
TARBALL=$BENCH_DIR/image/rootfs.tar.gz
if [ -f "$BENCH_ROOTFS_TARBALL" ]; then
	IMAGE_NOTE="root filesystem: $(basename "$BENCH_ROOTFS_TARBALL")"
	IMAGE=alpine
	install -o "$BENCH_USER" -g "$BENCH_USER" -m 0644 "$BENCH_ROOTFS_TARBALL" "$TARBALL"
	log "importing $BENCH_ROOTFS_TARBALL into gocker as $IMAGE"
	as_bench "$GOCKER" --root "$GOCKER_ROOT" import "$TARBALL" "$IMAGE" >/dev/null
else
	IMAGE_NOTE="root filesystem: busybox from scripts/mkbusybox.sh, because $BENCH_ROOTFS_TARBALL does not exist"
	IMAGE=busybox
	log "$BENCH_ROOTFS_TARBALL not found: using a busybox root filesystem from scripts/mkbusybox.sh"
	install -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$REPO/scripts/mkbusybox.sh" "$BENCH_DIR/bin/mkbusybox.sh"
	as_bench sh "$BENCH_DIR/bin/mkbusybox.sh" "$BENCH_DIR/image/busybox"
	as_bench tar --numeric-owner --owner=0 --group=0 -C "$BENCH_DIR/image/busybox" -czf "$TARBALL" .
	log "creating the gocker image $IMAGE from $BENCH_DIR/image/busybox"
	as_bench "$GOCKER" --root "$GOCKER_ROOT" init "$BENCH_DIR/image/busybox" "$IMAGE" >/dev/null
fi
log "$IMAGE_NOTE"

# --- Podman ---------------------------------------------------------------
PODMAN_IMAGE=localhost/$IMAGE:latest
bench_podman_config
podman_ready=1
log "importing the same tarball into Podman as $PODMAN_IMAGE"
as_bench podman import --quiet "$TARBALL" "$PODMAN_IMAGE" >/dev/null
podman_driver=$(as_bench podman info --format '{{.Store.GraphDriverName}}')
[ "$podman_driver" = overlay ] || die "Podman uses the storage driver $podman_driver, expected overlay"

# --- runc bundle ----------------------------------------------------------
log "preparing the rootless runc bundle $BUNDLE"
as_bench mkdir "$BUNDLE/rootfs"
as_bench tar -xzf "$TARBALL" -C "$BUNDLE/rootfs"
(cd "$BUNDLE" && as_bench runc spec --rootless)
jq '.process.args = ["true"] | .process.terminal = false' "$BUNDLE/config.json" >"$BUNDLE/config.json.new"
mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
chown "$BENCH_USER:" "$BUNDLE/config.json"

# --- benchmark ------------------------------------------------------------
# Names and command lines, in table order. The first row is the baseline of
# the ratio column.
names=(
	"gocker run --rm --pull never --network none $IMAGE true"
	"podman run --rm --pull never --network none $PODMAN_IMAGE true"
	"runc run -b BUNDLE ID"
	"unshare --map-auto --map-root-user -mpf --mount-proc true"
	"gocker run --rm --pull never --network host $IMAGE true"
)
cmds=(
	"$GOCKER --root $GOCKER_ROOT run --rm --pull never --network none $IMAGE true"
	"podman run --rm --pull never --network none $PODMAN_IMAGE true"
	"runc run -b $BUNDLE $RUNC_ID"
	"unshare --map-auto --map-root-user -mpf --mount-proc true"
	"$GOCKER --root $GOCKER_ROOT run --rm --pull never --network host $IMAGE true"
)

# One untimed run of each command, so that a failure shows its own error
# message instead of hyperfine's bare exit status.
for i in "${!cmds[@]}"; do
	# shellcheck disable=SC2086 # the command line is split into words on purpose
	if ! out=$(as_bench ${cmds[$i]} 2>&1); then
		die "\"${names[$i]}\" failed before the benchmark: $out"
	fi
done

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSON=$RESULTS/start-$STAMP.json
TABLE=$RESULTS/start-$STAMP.md
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hf_args=(-N --warmup "$BENCH_WARMUP" --runs "$BENCH_RUNS" --export-json "$JSON")
for i in "${!cmds[@]}"; do
	hf_args+=(-n "${names[$i]}" "${cmds[$i]}")
done
log "running hyperfine: $BENCH_RUNS runs and $BENCH_WARMUP warmups per command"
as_bench hyperfine "${hf_args[@]}"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- table ----------------------------------------------------------------
# hyperfine 1.15 exports median, min and max in seconds. A version that
# lacks one of these fields gets it computed from times.
rows=$(jq -r '
	def median: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	.results[] | [.command, (.median // (.times | median)),
		(.min // (.times | min)), (.max // (.times | max)), (.times | length)] | @tsv' "$JSON")
{
	echo "## Container start latency, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "- $IMAGE_NOTE"
	echo "- host: Linux $(uname -r), $(nproc) CPUs, load average $load_before before and $load_after after"
	echo "- versions: gocker $GOCKER_COMMIT built with $("$GO" env GOVERSION), $(podman --version), $(runc --version | head -1), $(hyperfine --version), $(unshare --version)"
	echo "- hyperfine -N, $BENCH_WARMUP warmups and $BENCH_RUNS runs per command, as the user $BENCH_USER"
	echo
	echo "| command | median | min | max | runs | ratio to gocker's median |"
	echo "|---|---:|---:|---:|---:|---:|"
	awk -F'\t' 'NR == 1 { base = $2 }
		{ printf "| `%s` | %.1f ms | %.1f ms | %.1f ms | %d | %.2f |\n", $1, $2 * 1000, $3 * 1000, $4 * 1000, $5, $2 / base }' <<<"$rows"
	echo
	echo "The ratio divides each median by the median of \`${names[0]}\`."
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
