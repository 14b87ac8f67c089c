# lib.sh: the parts that the benchmark scripts share. Source it after
# setting BENCH_USER, BENCH_DIR and RUN_DIR (the bench user's
# XDG_RUNTIME_DIR). It defines functions only.
# shellcheck shell=bash

SAFE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "bench: $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

# bench_check_settings checks that the script runs as root, that
# BENCH_DIR is usable, and that each variable named as an argument is a
# whole number. It strips a trailing / from BENCH_DIR.
bench_check_settings() {
	local n
	[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0): it installs packages, creates the user $BENCH_USER and runs the benchmark as that user"
	case $BENCH_DIR in
	/) die "BENCH_DIR=/ is not allowed: use a directory of its own such as /var/tmp/gocker-bench" ;;
	/*) BENCH_DIR=${BENCH_DIR%/} ;;
	*) die "BENCH_DIR must be an absolute path, got \"$BENCH_DIR\"" ;;
	esac
	case $BENCH_DIR in
	*[[:space:]\'\"\\]*) die "BENCH_DIR must not contain spaces, quotes or backslashes: hyperfine splits its command lines into words" ;;
	esac
	for n in "$@"; do
		case ${!n} in
		'' | *[!0-9]*) die "$n must be a whole number, got \"${!n}\"" ;;
		esac
	done
}

# bench_install installs the Debian packages named as arguments that are
# missing.
bench_install() {
	local p missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	log "installing$missing"
	apt-get -o DPkg::Lock::Timeout=600 update -q
	# shellcheck disable=SC2086 # one word per package
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
}

# bench_create_user creates BENCH_USER with its own subordinate id range,
# unless it exists, and sets BENCH_UID and BENCH_HOME.
bench_create_user() {
	local f start
	if ! id "$BENCH_USER" >/dev/null 2>&1; then
		log "creating user $BENCH_USER"
		useradd --create-home --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$BENCH_USER"
	fi
	for f in /etc/subuid /etc/subgid; do
		touch "$f"
		if ! grep -q "^$BENCH_USER:" "$f"; then
			# The new range starts after the highest range in use, and
			# never below 100000, so it overlaps no other user's range.
			start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
			echo "$BENCH_USER:$start:65536" >>"$f"
			log "added $BENCH_USER:$start:65536 to $f"
		fi
	done
	BENCH_UID=$(id -u "$BENCH_USER")
	BENCH_HOME=$(getent passwd "$BENCH_USER" | cut -d: -f6)
}

# as_bench runs a command as the bench user with a fixed environment.
# Podman reads its configuration from XDG_CONFIG_HOME and keeps its
# runtime state (runroot, locks, the pause process's PID file) under
# XDG_RUNTIME_DIR, so nothing lands in the user's home directory.
as_bench() {
	runuser -u "$BENCH_USER" -- env -i \
		HOME="$BENCH_HOME" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
		PATH="$SAFE_PATH" LANG=C \
		XDG_RUNTIME_DIR="$RUN_DIR" \
		XDG_CONFIG_HOME="$BENCH_DIR/config" \
		XDG_DATA_HOME="$BENCH_DIR/data" \
		"$@"
}

# end_bench_processes ends the processes the script started: those of the
# bench user whose environment carries this run's XDG_RUNTIME_DIR
# (gocker's monitors, Podman's conmons and pause process, anything a
# failed run left behind). Each one is ended by its PID.
end_bench_processes() {
	local pid left round
	for round in TERM KILL; do
		left=""
		for pid in $(pgrep -u "$BENCH_UID" || true); do
			if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "XDG_RUNTIME_DIR=$RUN_DIR"; then
				left="$left $pid"
			fi
		done
		[ -n "$left" ] || return 0
		left=${left# }
		log "ending leftover processes with SIG$round: $(ps -o pid=,comm= -p "${left// /,}" | tr -s ' \n' ' ')"
		# shellcheck disable=SC2086 # one word per PID
		kill -s "$round" $left 2>/dev/null || true
		sleep 2
	done
}

# bench_podman_config writes the bench user's Podman configuration: native
# overlay storage under BENCH_DIR/podman, runc, cgroups managed without
# systemd (cgroupfs), events to a file. The storage driver is set because
# Podman 4.3.1 picked vfs on first use on the Debian 12 VMs of this
# project when no storage.conf existed.
bench_podman_config() {
	local dir=$BENCH_DIR/config/containers
	install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$dir"
	cat >"$dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$BENCH_DIR/podman/storage"
runroot = "$RUN_DIR/containers"
CONF
	cat >"$dir/containers.conf" <<CONF
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
	chown "$BENCH_USER:" "$dir/storage.conf" "$dir/containers.conf"
}

# bench_remove_workdirs removes the subdirectories of BENCH_DIR named in
# WORK_SUBDIRS. BENCH_DIR itself may be a directory the caller chose, so it
# is never removed as a whole.
bench_remove_workdirs() {
	local d
	for d in $WORK_SUBDIRS; do
		rm -rf "${BENCH_DIR:?}/$d"
	done
}

# bench_prepare_workdirs ends what a run killed before its cleanup left
# behind, and creates the work directories and BENCH_DIR/results afresh,
# owned by the bench user.
bench_prepare_workdirs() {
	local d
	end_bench_processes
	bench_remove_workdirs
	for d in $WORK_SUBDIRS results; do
		install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0755 "$BENCH_DIR/$d"
	done
	chmod 0700 "$RUN_DIR"
	if ! as_bench test -w "$BENCH_DIR/bin"; then
		die "$BENCH_USER cannot write to $BENCH_DIR/bin: every parent directory of BENCH_DIR must be searchable by $BENCH_USER"
	fi
}

# bench_release ends the processes the run started, waits for them to be
# reaped, and removes the work directories and the lock file.
bench_release() {
	end_bench_processes
	# The ended processes and Podman's conmon processes are orphans that
	# PID 1 reaps. On the Debian 12 VMs of this project, PID 1 is not
	# systemd and reaps them a second or two later, so wait for the
	# zombies to go.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pgrep -u "$BENCH_UID" >/dev/null || break
		sleep 1
	done
	# The stores hold files owned by subordinate ids, so root removes them.
	bench_remove_workdirs
	rm -f "$BENCH_DIR/.lock"
}
