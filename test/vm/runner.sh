#!/bin/bash
# gocker-vm-runner: runs in the test guest as a systemd service after boot.
# It mounts the 9p share, runs the suite from it as root, writes its output
# and exit status back to the share, and powers the guest off. With
# gocker.shell on the kernel command line it does nothing, so that root
# can log in on the serial console.
grep -qw gocker.shell /proc/cmdline && exit 0
mkdir -p /mnt/share
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /mnt/share; then
	echo "gocker-vm-runner: cannot mount the 9p share" >/dev/console
	systemctl --no-block poweroff
	exit 0
fi
cd /mnt/share || exit 0
echo "gocker-vm-runner: suite starts at uptime $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
./suite.sh >out.log 2>&1 </dev/null
echo $? >rc.tmp
mv rc.tmp rc
echo "gocker-vm-runner: suite ends at uptime $(cut -d' ' -f1 /proc/uptime)s with status $(cat rc)" >/dev/console
sync
systemctl --no-block poweroff
