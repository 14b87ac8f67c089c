#!/bin/bash
# suite.sh: gocker's resource limit tests on cgroup v2 with systemd. It runs
# as root inside the test guest (test/vm/guest.sh) from the 9p share, which
# holds the gocker binary and scripts/mkbusybox.sh, and drives gocker as
# the lingering user gtest (rootless, through a delegated systemd scope)
# and as root (cgroup v2 directly). It prints one line per check and ends
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
ugocker() { as_user "$GOCKER" --root "$USER_STORE" "$@"; }
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

test_rootless_limits() {
	local out
	out=$(ugocker run --rm --memory 64m --cpus 0.5 --cpu-shares 512 --pids-limit 32 busybox sh -c \
		'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/pids.max' 2>&1)
	check "rootless limits read back in the container" "$(echo "$out" | tr '\n' ' ')" \
		"0::/ 67108864 67108864 50000 100000 20 32 "
	out=$(ugocker run --rm --memory 64m --memory-swap -1 busybox cat /sys/fs/cgroup/memory.swap.max 2>&1)
	check "rootless --memory-swap -1" "$out" "max"
}

test_rootless_scope() {
	ugocker run --rm --name scoped --memory 64m busybox sleep 4 &
	local gpid=$! pid cgroup unit stats
	pid=$(container_pid "$gpid") || {
		fail "rootless scope: no container process"
		return
	}
	stats=$(ugocker stats --no-stream scoped | tail -1)
	contains "stats shows the memory limit from the scope" "$stats" " / 64MiB "
	cgroup=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	contains "rootless container in a delegated scope of the user manager" "$cgroup" \
		"/user.slice/user-$USER_UID.slice/user@$USER_UID.service/user.slice/gocker-"
	check "rootless container in the scope's leaf" "$(basename "$cgroup")" container
	unit=$(basename "$(dirname "$cgroup")")
	check "scope delegates" "$(as_user systemctl --user show -p Delegate --value "$unit")" yes
	wait "$gpid"
	if wait_gone "/sys/fs/cgroup$(dirname "$cgroup")"; then pass "scope removed after exit"; else fail "scope $unit still exists after exit"; fi
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

test_rootless_oom() {
	ugocker run --memory 32m --memory-swap 32m busybox tail /dev/zero >/dev/null 2>&1
	check "rootless OOM kill exits 137" "$?" 137
	check "rootless OOM kill sets OOMKilled" "$(state_field "$USER_STORE" OOMKilled)" true
	ugocker run --memory 32m busybox sleep 100 &
	local gpid=$! pid
	pid=$(container_pid "$gpid") && kill -9 "$pid"
	wait "$gpid"
	check "rootless kill -9 exits 137" "$?" 137
	check "rootless kill -9 leaves OOMKilled false" "$(state_field "$USER_STORE" OOMKilled)" false
}

# The fork bomb is bounded (100 forks): an inner shell forks until the
# limit stops it and dies, then the outer one reads the counters with
# builtins.
FORK_BOMB='sh -c '\''i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done'\'' 2>/dev/null
read current < /sys/fs/cgroup/pids.current; read events < /sys/fs/cgroup/pids.events; echo $current $events'

test_rootless_pids() {
	local out current
	out=$(ugocker run --rm --pids-limit 16 busybox sh -c "$FORK_BOMB")
	current=${out%% *}
	if [ "$current" -le 16 ] && [ "$current" -ge 13 ] && [ "${out##* }" -gt 0 ]; then
		pass "rootless fork bomb capped at 16 ($out)"
	else
		fail "rootless fork bomb: pids.current and pids.events = $out"
	fi
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

test_root_limits() {
	local out id
	out=$(rgocker run --memory 64m --cpus 1.5 --pids-limit 10 busybox sh -c \
		'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/pids.max' 2>&1)
	check "root limits read back in the container" "$(echo "$out" | tr '\n' ' ')" "0::/ 67108864 150000 100000 10 "
	id=$(rgocker ps -aq --no-trunc | head -1)
	if [ -n "$id" ] && wait_gone "/sys/fs/cgroup/gocker/$id"; then pass "root cgroup removed after exit"; else fail "root cgroup /sys/fs/cgroup/gocker/$id remains"; fi
	rgocker run --memory 32m --memory-swap 32m busybox tail /dev/zero >/dev/null 2>&1
	check "root OOM kill exits 137" "$?" 137
	check "root OOM kill sets OOMKilled" "$(state_field "$ROOT_STORE" OOMKilled)" true
	out=$(rgocker run --rm --pids-limit 16 busybox sh -c "${FORK_BOMB}")
	if [ "${out%% *}" -le 16 ] && [ "${out##* }" -gt 0 ]; then pass "root fork bomb capped ($out)"; else fail "root fork bomb: $out"; fi
}

# bench compares "gocker run --rm" with and without limits, rootless, side
# by side in one hyperfine run, and writes a Markdown table to the share.
bench() {
	local runs=${GOCKER_VM_BENCH_RUNS:-30}
	as_user hyperfine -N -w 3 -r "$runs" --export-markdown /tmp/bench.md \
		"$GOCKER --root $USER_STORE run --rm busybox true" \
		"$GOCKER --root $USER_STORE run --rm --memory 64m --cpus 0.5 --pids-limit 32 busybox true" \
		"$GOCKER --root $USER_STORE run --rm --memory 64m busybox true"
	cp /tmp/bench.md "$SHARE/bench.md"
}

setup
test_rootless_limits
test_rootless_scope
test_rootless_no_limits
test_rootless_oom
test_rootless_pids
test_rootless_missing_delegation
test_root_limits
if [ "${GOCKER_VM_BENCH:-0}" = 1 ]; then
	bench
fi
test_rootless_delegation_fixed
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
