#!/bin/bash
# suite.sh: gocker's resource limit tests on cgroup v2 with systemd. It runs
# as root inside the test guest (test/vm/guest.sh) from the 9p share, which
# holds the gocker binary and scripts/mkbusybox.sh, and drives gocker as
# the lingering user gtest (rootless, through a delegated systemd scope)
# and as root (cgroup v2 directly): the limit tests of the Go end-to-end
# suite, compiled on the host, and checks of the systemd scope itself. It prints one line per check and ends
# with "N passed, N failed"; its exit status is 1 when a check failed.
set -uo pipefail

SHARE=$(cd "$(dirname "$0")" && pwd)
USER_NAME=gtest
USER_UID=$(id -u "$USER_NAME")
USER_HOME=/home/$USER_NAME
USER_STORE=$USER_HOME/store
ROOT_STORE=/var/lib/gocker-vm-test
GOCKER=/usr/local/bin/gocker
SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# shellcheck source=/dev/null
. "$SHARE/settings"
passed=0
failed=0

pass() {
	passed=$((passed + 1))
	echo "ok   $*"
}
fail() {
	failed=$((failed + 1))
	echo "FAIL $*"
}
# check NAME GOT WANT compares two strings.
check() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got $(printf %q "$2"), want $(printf %q "$3")"; fi
}
# contains NAME TEXT PART checks that TEXT contains PART.
contains() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1: $(printf %q "$2") does not contain $(printf %q "$3")" ;;
	esac
}

# as_user runs a command as the test user in the environment of a login
# session of a lingering user: XDG_RUNTIME_DIR leads to the user's bus.
as_user() {
	runuser -u "$USER_NAME" -- env -i HOME="$USER_HOME" USER="$USER_NAME" LOGNAME="$USER_NAME" \
		PATH="$SAFE_PATH" LANG=C XDG_RUNTIME_DIR="/run/user/$USER_UID" "$@"
}
# The limits have nothing to do with networking, and the guest has no
# user-mode networking tools, so every run of the suite uses
# --network none.
ugocker() {
	if [ "$1" = run ]; then
		shift
		set -- run --network none "$@"
	fi
	as_user "$GOCKER" --root "$USER_STORE" "$@"
}
rgocker() { "$GOCKER" --root "$ROOT_STORE" "$@"; }

# state_field STORE FIELD prints a field of the newest container's state.
state_field() {
	local id
	id=$("$GOCKER" --root "$1" ps -aq --no-trunc | head -1)
	grep -o "\"$2\": *[a-z0-9]*" "$1/containers/$id/state.json" | sed 's/.*: *//'
}

# wait_gone DIR waits up to 5s for a cgroup directory to disappear.
wait_gone() {
	for _ in $(seq 50); do
		[ -e "$1" ] || return 0
		sleep 0.1
	done
	return 1
}

# descendants PID prints the processes below PID, depth first.
descendants() {
	local child
	for child in $(pgrep -P "$1"); do
		echo "$child"
		descendants "$child"
	done
}

# container_pid PID waits for the container process that a gocker run
# started below the background job PID: the busybox of the image.
container_pid() {
	local pid
	for _ in $(seq 300); do
		for pid in $(descendants "$1"); do
			case $(readlink "/proc/$pid/exe" 2>/dev/null) in */busybox)
				echo "$pid"
				return 0
				;;
			esac
		done
		sleep 0.1
	done
	return 1
}

setup() {
	install -m 0755 "$SHARE/gocker" "$GOCKER"
	if [ -f "$SHARE/gocker-init" ]; then
		install -m 0755 "$SHARE/gocker-init" "$GOCKER-init"
	fi
	echo "guest: $(uname -r), $(systemctl --version | head -1)"
	echo "delegated to user@$USER_UID.service: $(cat /sys/fs/cgroup/user.slice/user-$USER_UID.slice/user@$USER_UID.service/cgroup.controllers)"
	# The share is readable by root alone.
	install -m 0755 "$SHARE/mkbusybox.sh" /usr/local/bin/mkbusybox.sh
	rm -rf "$USER_STORE" /tmp/busybox-rootfs
	as_user sh /usr/local/bin/mkbusybox.sh "$USER_HOME/busybox-rootfs" >/dev/null
	ugocker init --change 'CMD ["sh"]' "$USER_HOME/busybox-rootfs" busybox >/dev/null
	sh /usr/local/bin/mkbusybox.sh /tmp/busybox-rootfs >/dev/null
	rgocker init --change 'CMD ["sh"]' /tmp/busybox-rootfs busybox >/dev/null
}

test_rootless_scope() {
	ugocker run --rm --name scoped --memory 64m busybox sleep 8 &
	local gpid=$! pid cgroup unit stats
	pid=$(container_pid "$gpid") || {
		fail "rootless scope: no container process"
		return
	}
	stats=$(ugocker stats --no-stream scoped | tail -1)
	contains "stats shows the memory limit from the scope" "$stats" " / 64MiB "
	# exec asks the user manager to move it into the scope: the session
	# it runs from shares no cgroup the user owns with the scope.
	check "exec joins the container's cgroup" "$(ugocker exec scoped cat /proc/self/cgroup 2>&1)" "0::/"
	cgroup=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	contains "rootless container in a delegated scope of the user manager" "$cgroup" \
		"/user.slice/user-$USER_UID.slice/user@$USER_UID.service/user.slice/gocker-"
	unit=$(basename "$cgroup")
	case $unit in
	gocker-*.scope) pass "rootless container in its scope" ;;
	*) fail "rootless container in $cgroup, not in a gocker scope" ;;
	esac
	check "scope delegates" "$(as_user systemctl --user show -p Delegate --value "$unit")" yes
	check "memory limit is the scope's property" "$(as_user systemctl --user show -p MemoryMax --value "$unit")" 67108864
	check "systemd wrote the memory limit" "$(cat "/sys/fs/cgroup$cgroup/memory.max")" 67108864
	wait "$gpid"
	if wait_gone "/sys/fs/cgroup$cgroup"; then pass "scope removed after exit"; else fail "scope $unit still exists after exit"; fi
}

# The scope is asked for over the user manager's private socket, or over
# the user's D-Bus where the private socket is out of reach.
test_rootless_manager_connection() {
	local out
	out=$(as_user "$GOCKER" --debug --root "$USER_STORE" run --rm --network none --memory 64m busybox cat /sys/fs/cgroup/memory.max 2>&1)
	contains "scope over the manager's private socket" "$out" "via=\"unix:path=/run/user/$USER_UID/systemd/private\""
	contains "limit set over the private socket" "$out" 67108864
	mkdir -p /tmp/no-private
	chown "$USER_NAME" /tmp/no-private
	out=$(runuser -u "$USER_NAME" -- env -i HOME="$USER_HOME" USER="$USER_NAME" LOGNAME="$USER_NAME" \
		PATH="$SAFE_PATH" LANG=C XDG_RUNTIME_DIR=/tmp/no-private DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$USER_UID/bus" \
		"$GOCKER" --debug --root "$USER_STORE" run --rm --network none --memory 64m busybox cat /sys/fs/cgroup/memory.max 2>&1)
	contains "scope over the user's D-Bus without the private socket" "$out" "via=\"unix:path=/run/user/$USER_UID/bus\""
	contains "limit set over the user's D-Bus" "$out" 67108864
}

test_rootless_no_limits() {
	ugocker run --rm busybox sleep 2 &
	local gpid=$! pid cgroup
	pid=$(container_pid "$gpid") || {
		fail "no limits: no container process"
		return
	}
	cgroup=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	case $cgroup in
	*/gocker-*.scope/*) fail "a container without limits got a cgroup: $cgroup" ;;
	*) pass "a container without limits gets no cgroup" ;;
	esac
	wait "$gpid"
	check "a container without limits sees its cgroup as /" "$(ugocker run --rm busybox cat /proc/self/cgroup)" "0::/"
}

test_rootless_missing_delegation() {
	local out before
	before=$(ugocker ps -aq | wc -l)
	out=$(ugocker run --rm --cpuset-cpus 0 busybox true 2>&1)
	check "cpuset without delegation exits 125" "$?" 125
	contains "cpuset without delegation names the controller" "$out" "the cpuset controller is not delegated to $USER_NAME"
	contains "cpuset without delegation prints the drop-in" "$out" "Delegate=cpu cpuset io memory pids"
	check "cpuset without delegation leaves no container" "$(ugocker ps -aq | wc -l)" "$before"
}

test_rootless_delegation_fixed() {
	mkdir -p /etc/systemd/system/user@.service.d
	printf '[Service]\nDelegate=cpu cpuset io memory pids\n' >/etc/systemd/system/user@.service.d/delegate.conf
	systemctl daemon-reload
	systemctl restart "user@$USER_UID.service"
	local out
	out=$(ugocker run --rm --cpuset-cpus 1 busybox cat /sys/fs/cgroup/cpuset.cpus 2>&1)
	check "cpuset with the Delegate drop-in" "$out" 1
}

# bench compares "gocker run --rm" with and without limits, rootless, side
# by side in one hyperfine run, and writes hyperfine's JSON to the share.
# With a baseline binary in the share (GOCKER_VM_BASELINE), its rows come
# first, so each binary's rows start with its run without limits.
bench() {
	local runs=${GOCKER_VM_BENCH_RUNS:-30} bin rows=() limits="--memory 64m --cpus 0.5 --pids-limit 32"
	local bins=("$GOCKER")
	if [ -f "$SHARE/gocker-base" ]; then
		install -m 0755 "$SHARE/gocker-base" "$GOCKER-base"
		bins=("$GOCKER-base" "$GOCKER")
	fi
	for bin in "${bins[@]}"; do
		rows+=("$bin --root $USER_STORE run --rm --network none busybox true"
			"$bin --root $USER_STORE run --rm --network none $limits busybox true"
			"$bin --root $USER_STORE run --rm --network none --memory 64m busybox true")
	done
	# Let the boot's last jobs finish: up to a minute for a one-minute
	# load average below 0.5. (systemctl is-system-running --wait would
	# wait for this suite's own service.)
	for _ in $(seq 60); do
		awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
		sleep 1
	done
	echo "benchmark load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	# Each round times every row, with runs/rounds runs a row; the host
	# merges the rounds' times (scripts/bench/limits.sh).
	local rounds=${GOCKER_VM_BENCH_ROUNDS:-1} round warmup=5
	for round in $(seq "$rounds"); do
		as_user hyperfine -N -w "$warmup" -r $((runs / rounds)) --export-json "/tmp/bench-$round.json" "${rows[@]}"
		cp "/tmp/bench-$round.json" "$SHARE/bench-$round.json"
		warmup=0
	done
	cp /tmp/bench-1.json "$SHARE/bench.json"
	echo "benchmark load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	# The debug log of a few runs with limits shows where the time goes.
	for bin in "${bins[@]}"; do
		for _ in 1 2 3; do
			# shellcheck disable=SC2086 # limits holds several words
			as_user "$bin" --debug --root "$USER_STORE" run --rm --network none $limits busybox true 2>&1 |
				sed "s|^|debug $(basename "$bin"): |"
		done
	done
}

# go_tests runs the limit tests of gocker's end-to-end suite, compiled on
# the host with "go test -c", as root and as the test user, and counts
# their results.
go_tests() {
	if [ ! -x "$SHARE/e2e.test" ]; then
		fail "the end-to-end test binary is missing from the share"
		return
	fi
	# The tests find scripts/mkbusybox.sh relative to their directory.
	rm -rf /opt/gocker-e2e
	mkdir -p /opt/gocker-e2e/test /opt/gocker-e2e/scripts
	install -m 0755 "$SHARE/mkbusybox.sh" /opt/gocker-e2e/scripts/mkbusybox.sh
	(cd /opt/gocker-e2e/test && GOCKER_TEST_BINARY=$GOCKER GOCKER_TEST_USER=$USER_NAME \
		"$SHARE/e2e.test" -test.v -test.count=1 -test.timeout=10m \
		-test.run 'TestRunLimits|TestRunOOMKilled|TestRunKilledNotOOMKilled|TestRunPidsLimit|TestRunCPUQuota|TestRunCgroupNamespace|TestStats') \
		>/tmp/e2e.log 2>&1
	grep -E '^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL)\b|_test.go:[0-9]+:|^\s*(stdout|stderr):' /tmp/e2e.log | sed 's/^/  e2e: /'
	passed=$((passed + $(grep -cE '^\s*--- PASS' /tmp/e2e.log)))
	failed=$((failed + $(grep -cE '^\s*--- FAIL' /tmp/e2e.log)))
	grep -qE '^(ok|PASS)' /tmp/e2e.log || fail "the end-to-end tests did not finish: $(tail -5 /tmp/e2e.log)"
}

setup
# The benchmark runs first, on a guest that the tests have not loaded yet.
case ${GOCKER_VM_BENCH:-0} in
1) bench ;;
only)
	bench
	echo "benchmark only: the suite did not run"
	exit 0
	;;
esac
go_tests
test_rootless_scope
test_rootless_manager_connection
test_rootless_no_limits
test_rootless_missing_delegation
test_rootless_delegation_fixed
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
