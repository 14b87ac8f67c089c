#!/bin/sh
# mkbusybox.sh DIR: build a minimal root filesystem in DIR from Debian's
# busybox-static package: /bin/busybox with a symlink per applet, root,
# nobody and an unprivileged "app" user, and the usual directories.
# "gocker init DIR busybox" turns it into gocker's default image.
set -eu

dir=${1:?usage: mkbusybox.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
	echo "mkbusybox.sh: $busybox is missing or not a busybox binary: install busybox-static (apt-get install busybox-static)" >&2
	exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkbusybox.sh: $busybox is dynamically linked; the image needs the static build from the busybox-static package" >&2
	exit 1
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin etc root tmp var/tmp home/app proc sys dev usr/bin usr/sbin
cp "$busybox" bin/busybox
chmod 0755 bin/busybox
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "bin/$applet"
done
chmod 1777 tmp var/tmp
chmod 0700 root

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
tty:x:5:
users:x:100:app
app:x:1000:
nogroup:x:65534:
GROUP
echo "gocker busybox image" > etc/motd
