#!/bin/bash
# Power a molecule host off cleanly and remove everything it used (netns, veth, cgroups, overlay).
# Usage: mol-down.sh NAME [keep]   (keep = leave the upper layer on disk)
set -uo pipefail
NAME=$1
BASE=${MOL_BASE:-/var/lib/machines/molecule}
M=$BASE/machines/$NAME
if [ -f "$M/supervisor.pid" ]; then
  S=$(cat "$M/supervisor.pid")
  P=$(cat "$M/nspawn.pid" 2>/dev/null || true)
  if [ -n "$P" ] && kill -0 "$P" 2>/dev/null; then
    kill -TERM "$P"          # nspawn forwards SIGRTMIN+3: clean poweroff
    for i in $(seq 1 300); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$P" 2>/dev/null && kill -KILL "$P"
  fi
  for i in $(seq 1 50); do kill -0 "$S" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$S" 2>/dev/null && kill -KILL "$S"
  rm -f "$M/supervisor.pid" "$M/nspawn.pid" "$M/leader.pid"
fi
for h in systemd unified; do
  [ -d "/sys/fs/cgroup/$h/molecule/$NAME" ] &&
    find "/sys/fs/cgroup/$h/molecule/$NAME" -depth -type d -exec rmdir {} \; 2>/dev/null
done
ip link del "vm-$NAME" 2>/dev/null
ip netns del "mol-$NAME" 2>/dev/null
mountpoint -q "$M/rootfs" && umount "$M/rootfs"
[ "${2:-}" = keep ] || rm -rf "$M"
true
