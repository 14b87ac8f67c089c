#!/bin/bash
# install.sh: install gocker, as "make install" does.
#
#   install.sh                    install bin/gocker and bin/gocker-init in $PREFIX/bin
#   install.sh --profile-for PATH only write the AppArmor profile, for the
#                                 gocker binary at PATH (an AppArmor glob)
#
# Where AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and
# later set kernel.apparmor_restrict_unprivileged_userns=1), it also
# writes and loads a profile that lets the installed binary create them,
# the one "gocker doctor" prints (userns.AppArmorProfile). It never turns
# the restriction off. Run as root.
#
# Environment: PREFIX (default /usr/local), DESTDIR (prepended to every
# path, for packaging; no profile is loaded then), BIN (default
# bin/gocker) and APPARMOR. APPARMOR=auto (the default) writes the
# profile where this host has the restriction, APPARMOR=1 writes it on any
# host (for a package built elsewhere), and APPARMOR=0 never writes it.
set -euo pipefail

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BIN=${BIN:-bin/gocker}
APPARMOR=${APPARMOR:-auto}
ABI=/etc/apparmor.d/abi/4.0
RESTRICT=/proc/sys/kernel/apparmor_restrict_unprivileged_userns

log() { echo "install: $*" >&2; }

# write_profile NAME PATH writes the AppArmor profile NAME that grants
# "userns" to the binary at PATH, and loads it.
write_profile() {
	local name=$1 path=$2 file
	if [ "$APPARMOR" = 0 ]; then
		log "APPARMOR=0: no AppArmor profile written"
		return 0
	fi
	if [ "$APPARMOR" = auto ] && { [ ! -f "$ABI" ] || [ ! -e "$RESTRICT" ]; }; then
		log "no AppArmor user namespace restriction here ($ABI or $RESTRICT is missing): no profile needed (APPARMOR=1 writes it anyway)"
		return 0
	fi
	file=$DESTDIR/etc/apparmor.d/$name
	mkdir -p "$(dirname "$file")"
	cat >"$file" <<-PROFILE
		abi <abi/4.0>,
		include <tunables/global>

		profile $name $path flags=(unconfined) {
		  userns,

		  include if exists <local/$name>
		}
	PROFILE
	log "wrote $file for $path"
	# With APPARMOR=1 the host may lack AppArmor's restriction, and then
	# the profile is only written.
	if [ -z "$DESTDIR" ] && [ -e "$RESTRICT" ] && command -v apparmor_parser >/dev/null; then
		apparmor_parser -r "$file"
		log "loaded $file"
	fi
}

case $APPARMOR in
auto | 0 | 1) ;;
*)
	log "invalid APPARMOR=$APPARMOR: use auto, 1 or 0"
	exit 2
	;;
esac
if [ "$(id -u)" -ne 0 ] && [ -z "$DESTDIR" ]; then
	log "run as root (sudo $0): it writes to $PREFIX and /etc/apparmor.d"
	exit 1
fi
case ${1:-} in
--profile-for)
	path=${2:?usage: install.sh --profile-for PATH}
	# The profile's name is derived from the path, so that several can
	# coexist with the installed binary's.
	name=gocker-$(echo "$path" | sha256sum | cut -c1-8)
	write_profile "$name" "$path"
	;;
"")
	[ -x "$BIN" ] || {
		log "$BIN does not exist: run make build first"
		exit 1
	}
	install -D -m 0755 "$BIN" "$DESTDIR$PREFIX/bin/gocker"
	log "installed $DESTDIR$PREFIX/bin/gocker"
	# gocker runs the container init from its own directory, and from
	# itself where the init binary is missing.
	if [ -x "$BIN-init" ]; then
		install -D -m 0755 "$BIN-init" "$DESTDIR$PREFIX/bin/gocker-init"
		log "installed $DESTDIR$PREFIX/bin/gocker-init"
	else
		rm -f "$DESTDIR$PREFIX/bin/gocker-init"
		log "$BIN-init does not exist: containers start with gocker itself as their init"
	fi
	write_profile gocker "$PREFIX/bin/gocker"
	;;
*)
	sed -n '2,/^set -e/{/^#/p}' "$0" >&2
	exit 2
	;;
esac
