#!/bin/bash
# limits.sh: measure what resource limits add to the start latency of
# "gocker run --rm", rootless, in the systemd test guest (test/vm), where
# limits go through a delegated scope of the user's systemd manager. One
# hyperfine run in the guest times, side by side, a container without
# limits, one with --memory, --cpus and --pids-limit, and one with
# --memory alone. It prints a Markdown table of the medians. Run as root
# ("sudo make bench-limits"); it needs jq.
#
# Environment: BENCH_RUNS (default 30), BENCH_ROUNDS (default 1: the
# rounds that the runs are split into, each timing every row), and the GOCKER_VM_* settings of
# test/vm/guest.sh. GOCKER_VM_BASELINE=BINARY adds the same rows for that
# gocker binary first (A/B), and GOCKER_VM_BENCH=only leaves out the suite.
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
GOCKER_VM_BENCH=${GOCKER_VM_BENCH:-1} GOCKER_VM_BENCH_RUNS=${BENCH_RUNS:-30} GOCKER_VM_BENCH_ROUNDS=${BENCH_ROUNDS:-1} ./test/vm/guest.sh test bin/gocker |
	grep -E '^(FAIL|benchmark load|benchmark only|[0-9]+ passed)' >&2 || true
echo "| command | median | min | max | runs | ratio to the median without limits |"
echo "|---|---:|---:|---:|---:|---:|"
# hyperfine 1.15, the guest's, exports each run's time in seconds. The
# rounds' times of a row are merged before the median is taken.
jq -rs '[.[].results] | transpose[] | {command: .[0].command, times: ([.[].times[]] | sort)} |
	(.times | length) as $n | [.command, ((.times[($n - 1) / 2 | floor] + .times[$n / 2 | floor]) / 2), .times[0], .times[-1], (.times | length)] | @tsv' \
	"${GOCKER_VM_DIR:-/var/cache/gocker-vm}"/bench-*.json |
	sed 's|/usr/local/bin/\(gocker[a-z-]*\) --root /home/gtest/store |\1 |' |
	awk -F'\t' '$1 !~ /--memory/ { base = $2 }
		{ printf "| `%s` | %.1f ms | %.1f ms | %.1f ms | %d | %.2f |\n", $1, $2 * 1000, $3 * 1000, $4 * 1000, $5, $2 / base }'
