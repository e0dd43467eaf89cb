#!/bin/bash
# Boot one molecule host: overlay over the template, own netns on the bridge, own cgroup,
# systemd-nspawn with systemd as PID 1 under a tiny supervisor that restarts it on reboot (rc 133).
# Usage: mol-up.sh NAME OCTET
# Environment: MOL_BASE, MOL_TEMPLATE, MOL_SSH_PUBKEY, MOL_APT_PROXY, MOL_NSPAWN_EXTRA (extra flags,
# e.g. --bind-ro=/srv/wheelhouse), MOL_NET, MOL_BRIDGE.
set -euo pipefail
NAME=$1
OCT=$2
BASE=${MOL_BASE:-/var/lib/machines/molecule}
TEMPLATE=${MOL_TEMPLATE:-$BASE/rootfs-bookworm}
BR=${MOL_BRIDGE:-molbr0}
NET=${MOL_NET:-169.254.77}
M=$BASE/machines/$NAME
[ -d "$TEMPLATE/etc" ] || { echo "template $TEMPLATE missing" >&2; exit 1; }
mkdir -p "$M/upper" "$M/work" "$M/rootfs"
mountpoint -q "$M/rootfs" || mount -t overlay overlay \
  -o "lowerdir=$TEMPLATE,upperdir=$M/upper,workdir=$M/work" "$M/rootfs"
R=$M/rootfs
echo "$NAME" > "$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
  "$NAME" > "$R/etc/hosts"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# The controller's extra CAs (egress TLS may be intercepted).
for f in /usr/local/share/ca-certificates/*.crt; do
  [ -e "$f" ] && install -D -m644 "$f" "$R/usr/local/share/ca-certificates/$(basename "$f")"
done
cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/ca-certificates.crt"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$R/etc/pip.conf"
if [ -n "${MOL_SSH_PUBKEY:-}" ]; then
  install -d -m700 "$R/root/.ssh"
  install -m600 "$MOL_SSH_PUBKEY" "$R/root/.ssh/authorized_keys"
fi
if [ -n "${MOL_APT_PROXY:-}" ]; then
  echo "Acquire::http::Proxy \"$MOL_APT_PROXY\";" > "$R/etc/apt/apt.conf.d/01proxy"
fi
ip netns list | grep -qw "mol-$NAME" || ip netns add "mol-$NAME"
if ! ip link show "vm-$NAME" >/dev/null 2>&1; then
  ip link add "vm-$NAME" type veth peer name eth0 netns "mol-$NAME"
  ip link set "vm-$NAME" master "$BR" up
  ip -n "mol-$NAME" link set lo up
  ip -n "mol-$NAME" addr add "$NET.$OCT/24" dev eth0 scope global
  ip -n "mol-$NAME" link set eth0 up
  ip -n "mol-$NAME" route add default via "$NET.1"
fi
for h in systemd unified; do mkdir -p "/sys/fs/cgroup/$h/molecule/$NAME"; done
rm -f "$M/console.log" "$M/leader.pid" "$M/nspawn.pid"
# shellcheck disable=SC2016,SC2086
setsid bash -c '
  M=$0; NAME=$1; shift
  for h in systemd unified; do echo $$ > /sys/fs/cgroup/$h/molecule/$NAME/cgroup.procs; done
  while :; do
    systemd-nspawn --quiet --boot --directory="$M/rootfs" --machine="$NAME" --register=no \
      --keep-unit --resolv-conf=off --timezone=off --link-journal=no "$@" &
    NSP=$!; echo $NSP > "$M/nspawn.pid"
    for i in $(seq 1 200); do L=$(pgrep -P $NSP | head -1); [ -n "$L" ] && break; sleep 0.05; done
    echo "$L" > "$M/leader.pid"
    wait $NSP; rc=$?
    rm -f "$M/leader.pid"
    [ $rc -eq 133 ] || break
  done' "$M" "$NAME" --network-namespace-path="/run/netns/mol-$NAME" --private-network \
  ${MOL_NSPAWN_EXTRA:-} </dev/null >>"$M/console.log" 2>&1 &
echo $! > "$M/supervisor.pid"
for i in $(seq 1 200); do [ -s "$M/leader.pid" ] && break; sleep 0.05; done
LEADER=$(cat "$M/leader.pid" 2>/dev/null || true)
state=unknown
if [ -n "$LEADER" ]; then
  for i in $(seq 1 300); do
    state=$(nsenter -t "$LEADER" -a systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 0.2
  done
fi
echo "$NAME leader=$LEADER state=$state ip=$NET.$OCT"
case "$state" in
running|degraded) ;;
*) cat "$M/console.log" >&2; exit 1 ;;
esac
