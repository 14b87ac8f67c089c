#!/bin/bash
# pull.sh: measure pull and unpack of a synthetic multi-layer image of about
# 200 MB from a registry on 127.0.0.1. Rootless gocker and rootless "podman
# pull" run side by side in one hyperfine run. The floor is "tar -xzf" of
# the same layer tarballs into a directory on the same file system.
#
# Run as root ("sudo make bench"). The script:
# - installs hyperfine, podman, uidmap and jq when missing;
# - creates the user gockerbench with its own subordinate id range;
# - builds gocker, the distribution registry (from its Go module, once,
#   cached in /var/cache/gocker-test/bin) and the synthetic image
#   (scripts/bench/synth, deterministic), and pushes the image to a
#   registry it starts on a free port of 127.0.0.1 (plain HTTP, which
#   gocker allows for loopback registries and Podman with --tls-verify=false);
# - runs hyperfine as gockerbench; before each run the image is removed
#   from the store ("gocker rmi", "podman rmi -a -f", "rm -rf") and the
#   page cache is written back ("sync"), so no run reuses a layer;
# - prints a Markdown table and removes what it created except
#   BENCH_DIR/results, and ends the processes it started by their PIDs.
#
# Environment:
#   BENCH_DIR     work directory on the file system to measure (default
#                 /var/tmp/gocker-bench-pull)
#   BENCH_RUNS    timed runs per command (default 5)
#   GO            go binary (default: go in PATH, else /usr/local/go/bin/go)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_USER=gockerbench
BENCH_DIR=${BENCH_DIR:-/var/tmp/gocker-bench-pull}
BENCH_RUNS=${BENCH_RUNS:-5}
PACKAGES="hyperfine podman uidmap jq curl python3"
SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
REGISTRY_VERSION=v3.1.2
REGISTRY_CACHE=/var/cache/gocker-test/bin

log() { echo "bench-pull: $*" >&2; }
die() {
	echo "bench-pull: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0): it installs packages and runs the benchmark as $BENCH_USER"
case $BENCH_DIR in
/) die "BENCH_DIR=/ is not allowed" ;;
/*) ;;
*) die "BENCH_DIR must be an absolute path, got \"$BENCH_DIR\"" ;;
esac
case $BENCH_RUNS in
'' | *[!0-9]*) die "BENCH_RUNS must be a whole number, got \"$BENCH_RUNS\"" ;;
esac

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
	fi
done
BENCH_UID=$(id -u "$BENCH_USER")
BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)

RUN_DIR=$BENCH_DIR/run
RESULTS=$BENCH_DIR/results
WORK_SUBDIRS="bin synth registry gocker podman floor config data run"
install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR"
exec 9>"$BENCH_DIR/.lock"
flock -n 9 || die "another benchmark run holds the lock $BENCH_DIR/.lock: wait for it to finish or set BENCH_DIR to another directory"

as_bench() {
	runuser -u "$BENCH_USER" -- env -i \
		HOME="$BENCH_HOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
		PATH="$SAFE_PATH" LANG=C \
		XDG_RUNTIME_DIR="$RUN_DIR" \
		XDG_CONFIG_HOME="$BENCH_DIR/config" \
		XDG_DATA_HOME="$BENCH_DIR/data" \
		"$@"
}

# End the bench user's processes that carry this run's XDG_RUNTIME_DIR
# (Podman's pause process), each by its PID.
end_bench_processes() {
	local pid
	for pid in $(pgrep -u "$BENCH_UID" || true); do
		if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "XDG_RUNTIME_DIR=$RUN_DIR"; then
			kill -s KILL "$pid" 2>/dev/null || true
		fi
	done
}

REGISTRY_PID=""
JSON=""
complete=0
cleanup() {
	local status=$? d
	set +e
	cd /
	[ "$complete" = 1 ] || [ -z "$JSON" ] || rm -f "$JSON"
	if [ -n "$REGISTRY_PID" ]; then
		kill "$REGISTRY_PID" 2>/dev/null
		wait "$REGISTRY_PID" 2>/dev/null
	fi
	end_bench_processes
	sleep 1
	for d in $WORK_SUBDIRS; do
		rm -rf "${BENCH_DIR:?}/$d"
	done
	rm -f "$BENCH_DIR/.lock"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

end_bench_processes
for d in $WORK_SUBDIRS; do
	rm -rf "${BENCH_DIR:?}/$d"
done
for d in $WORK_SUBDIRS results; do
	install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR/$d"
done
chmod 0700 "$RUN_DIR"
cd "$BENCH_DIR"

log "building gocker and the synthetic image generator"
GO="$GO" "$REPO/scripts/build.sh" "$BENCH_DIR/bin" -buildvcs=false -trimpath
(cd "$REPO" && CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$BENCH_DIR/bin/synth" ./scripts/bench/synth)
REGISTRY=$REGISTRY_CACHE/registry-$REGISTRY_VERSION
if [ ! -x "$REGISTRY" ]; then
	log "building the distribution registry $REGISTRY_VERSION (once)"
	mkdir -p "$REGISTRY_CACHE"
	GOBIN=$BENCH_DIR/bin CGO_ENABLED=0 "$GO" install "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
	mv "$BENCH_DIR/bin/registry" "$REGISTRY"
fi
chmod 0755 "$BENCH_DIR/bin" "$BENCH_DIR/bin/gocker"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$BENCH_DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $BENCH_DIR/registry/data
http:
  addr: 127.0.0.1:$PORT
EOF
OTEL_TRACES_EXPORTER=none "$REGISTRY" serve "$BENCH_DIR/registry/config.yml" >"$BENCH_DIR/registry/log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 50); do
	curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break
	sleep 0.2
done
IMAGE=127.0.0.1:$PORT/bench/synth:1
log "generating the synthetic image and pushing it to $IMAGE"
"$BENCH_DIR/bin/synth" -out "$BENCH_DIR/synth" -push "$IMAGE"
chmod -R a+rX "$BENCH_DIR/synth"
GZ_BYTES=$(cat "$BENCH_DIR"/synth/layer-*.tar.gz | wc -c)
TAR_BYTES=$(for f in "$BENCH_DIR"/synth/layer-*.tar.gz; do gzip -dc "$f"; done | wc -c)
FILES=$(for f in "$BENCH_DIR"/synth/layer-*.tar.gz; do tar -tzf "$f"; done | wc -l)

mkdir -p "$BENCH_DIR/config/containers"
cat >"$BENCH_DIR/config/containers/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$BENCH_DIR/podman/storage"
runroot = "$RUN_DIR/containers"
EOF
cat >"$BENCH_DIR/config/containers/containers.conf" <<EOF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
chown -R "$BENCH_USER:$BENCH_USER" "$BENCH_DIR/config"

G="$BENCH_DIR/bin/gocker --root $BENCH_DIR/gocker"
FLOOR="sh -c 'for f in $BENCH_DIR/synth/layer-*.tar.gz; do tar -xzf \$f -C $BENCH_DIR/floor/x; done'"
log "checking each command once"
as_bench $G pull -q "$IMAGE" >/dev/null
as_bench podman pull -q --tls-verify=false "$IMAGE" >/dev/null

JSON=$RESULTS/pull-$(date -u +%Y%m%dT%H%M%SZ).json
log "running hyperfine ($BENCH_RUNS runs per command)"
as_bench hyperfine -N --runs "$BENCH_RUNS" --export-json "$JSON" \
	--prepare "sh -c '$G rmi -f $IMAGE >/dev/null 2>&1; sync'" -n "gocker pull" "$G pull -q $IMAGE" \
	--prepare "sh -c 'podman rmi -a -f >/dev/null 2>&1; sync'" -n "podman pull" "podman pull -q --tls-verify=false $IMAGE" \
	--prepare "sh -c 'rm -rf $BENCH_DIR/floor/x && mkdir $BENCH_DIR/floor/x && sync'" -n "tar -xzf (floor)" "$FLOOR"
complete=1

echo
echo "image: $FILES entries, $GZ_BYTES bytes compressed, $TAR_BYTES bytes as tar, 4 layers"
echo
echo "| command | median | min | max | MB/s in (gz) | MB/s out (tar) |"
echo "|---|---:|---:|---:|---:|---:|"
jq -r --argjson gz "$GZ_BYTES" --argjson tar "$TAR_BYTES" '.results[] |
	"| `\(.command)` | \(.median*100|round/100) s | \(.min*100|round/100) s | \(.max*100|round/100) s | \($gz/.median/1e6|round) | \($tar/.median/1e6|round) |"' "$JSON"
