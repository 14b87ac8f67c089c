#!/bin/bash
# limits.sh: measure what resource limits add to the start latency of
# "gocker run --rm", rootless, in the systemd test guest (test/vm), where
# limits go through a delegated scope of the user's systemd manager. One
# hyperfine run in the guest times, side by side, a container without
# limits, one with --memory, --cpus and --pids-limit, and one with
# --memory alone. It prints a Markdown table of the medians. Run as root
# ("sudo make bench-limits"); it needs jq.
#
# Environment: BENCH_RUNS (default 30), and the GOCKER_VM_* settings of
# test/vm/guest.sh.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
command -v jq >/dev/null || {
	echo "limits.sh: needs jq (apt-get install jq)" >&2
	exit 1
}
make build >/dev/null
# The suite's own result does not stop the benchmark; its failures are
# shown.
GOCKER_VM_BENCH=1 GOCKER_VM_BENCH_RUNS=${BENCH_RUNS:-30} ./test/vm/guest.sh test bin/gocker |
	grep -E '^(FAIL|benchmark load|[0-9]+ passed)' >&2 || true
echo "| command | median | min | max | runs | ratio to the median without limits |"
echo "|---|---:|---:|---:|---:|---:|"
# hyperfine 1.15, the guest's, exports median, min and max in seconds.
jq -r '.results[] | [.command, .median, .min, .max, (.times | length)] | @tsv' \
	"${GOCKER_VM_DIR:-/var/cache/gocker-vm}/bench.json" |
	sed 's|/usr/local/bin/gocker --root /home/gtest/store |gocker |' |
	awk -F'\t' 'NR == 1 { base = $2 }
		{ printf "| `%s` | %.1f ms | %.1f ms | %.1f ms | %d | %.2f |\n", $1, $2 * 1000, $3 * 1000, $4 * 1000, $5, $2 / base }'
