#!/bin/bash
# Host-only bridge for the molecule hosts (link-local /24 that exists only on this machine).
# Usage: mol-net.sh up [nat] | down
set -euo pipefail
BR=${MOL_BRIDGE:-molbr0}
NET=${MOL_NET:-169.254.77}
case "$1" in
up)
  ip link show "$BR" >/dev/null 2>&1 || ip link add "$BR" type bridge
  ip addr replace "$NET.1/24" dev "$BR"
  ip link set "$BR" up
  if [ "${2:-}" = nat ]; then
    [ -e /run/mol-ipfwd.orig ] || cat /proc/sys/net/ipv4/ip_forward > /run/mol-ipfwd.orig
    sysctl -qw net.ipv4.ip_forward=1
    nft -f - <<NFT
table ip molecule_nat
delete table ip molecule_nat
table ip molecule_nat {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    ip saddr $NET.0/24 oifname != "$BR" masquerade
  }
}
NFT
  fi
  ;;
down)
  nft delete table ip molecule_nat 2>/dev/null || true
  if [ -e /run/mol-ipfwd.orig ]; then
    sysctl -qw net.ipv4.ip_forward="$(cat /run/mol-ipfwd.orig)"
    rm -f /run/mol-ipfwd.orig
  fi
  ip link del "$BR" 2>/dev/null || true
  ;;
*)
  echo "usage: $0 up [nat] | down" >&2
  exit 2
  ;;
esac
