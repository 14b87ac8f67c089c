#!/bin/bash
echo "uptime $(cat /proc/uptime)"
systemctl --version | head -1
cat /sys/fs/cgroup/cgroup.controllers
cat /sys/fs/cgroup/cgroup.subtree_control
cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers
systemctl cat user@.service | grep -i deleg
ls -la /run/user/1000/
runuser -u gtest -- env XDG_RUNTIME_DIR=/run/user/1000 systemctl --user status | head -20
sysctl kernel.unprivileged_userns_clone 2>&1
