#!/bin/bash
# Check every unit in this directory with `systemd-analyze verify` (run by .ci/molecule.sh and
# usable by hand). The units point at /opt/pulp/venv, which does not exist on a build machine, so
# verification runs against a throw-away root that has stub executables at those paths.
# Exit status: 0 when systemd reports nothing, 1 otherwise (every message is treated as an error).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/etc/systemd/system" "$ROOT/opt/pulp/venv/bin" "$ROOT/usr/bin" "$ROOT/bin"
for exe in gunicorn pulp-content pulpcore-worker; do
  printf '#!/bin/sh\nexit 0\n' > "$ROOT/opt/pulp/venv/bin/$exe"
  chmod +x "$ROOT/opt/pulp/venv/bin/$exe"
done
cp /bin/kill "$ROOT/bin/kill"
# The stock units (sysinit.target, network-online.target, ...) our units depend on.
mkdir -p "$ROOT/lib/systemd"
cp -a /lib/systemd/system "$ROOT/lib/systemd/system"
cp "$HERE"/*.service "$HERE"/*.target "$ROOT/etc/systemd/system/"
units=()
for f in "$HERE"/*.service "$HERE"/*.target; do
  u=$(basename "$f")
  case "$u" in *@.service) u=${u/@./@1.} ;; esac   # verify one instance of each template
  units+=("$u")
done
out=$(cd "$ROOT/etc/systemd/system" && SYSTEMD_LOG_LEVEL=notice \
  systemd-analyze verify --root="$ROOT" "${units[@]}" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  exit 1
fi
echo "systemd-analyze verify: ${#units[@]} units OK (${units[*]})"
