#!/usr/bin/env bash
# Molecule scenarios of the production distribution on systemd-nspawn hosts (Debian bookworm,
# systemd as PID 1). Installs what it needs on a fresh Debian machine (run as root), prepares the
# shared pieces once (rootfs template, bridge, apt-cacher-ng, wheels), runs each scenario under a
# timeout, cleans every host up at start and on exit, and ends with "N passed, N failed".
#
#   bash .ci/molecule.sh                  # all scenarios
#   bash .ci/molecule.sh default upgrade  # some of them
#   MOL_KEEP=1 bash .ci/molecule.sh default   # keep the hosts afterwards for poking
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
export MOL_BASE=${MOL_BASE:-/var/lib/machines/molecule}
export MOL_NET=${MOL_NET:-169.254.77}
export MOL_VENV=${MOL_VENV:-/opt/pulp-molecule/venv}
NSPAWN=$REPO/molecule/shared/nspawn
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(default multi-host multi-host-s3 upgrade)
declare -A TIMEOUT=([default]=900 [multi-host]=1200 [multi-host-s3]=1200 [upgrade]=1200)
# The release the upgrade scenario starts from: an earlier commit of this repository (the first
# one with working roles; its schema lacks later migrations, so the upgrade migrates).
export MOL_PULP_PREVIOUS_REF=${MOL_PULP_PREVIOUS_REF:-4f7d19ba08a4cd2d7c2bfa15a9f66f6348706823}
# The S3-compatible server multi-host-s3 runs on its database host (from the wheelhouse).
export MOL_S3_SERVER_REQ=${MOL_S3_SERVER_REQ:-moto[server]==5.2.5}
log() { echo "molecule.sh: $(date +%T) $*"; }

cleanup() {
  if [ -d "$MOL_BASE/machines" ]; then
    for m in "$MOL_BASE"/machines/*/; do
      [ -d "$m" ] && "$NSPAWN/mol-down.sh" "$(basename "$m")"
    done
  fi
  "$NSPAWN/mol-net.sh" down
  if [ -f /run/apt-cacher-ng/pid ]; then
    kill "$(cat /run/apt-cacher-ng/pid)" 2>/dev/null
    rm -f /run/apt-cacher-ng/pid
  fi
  rm -rf "$HOME"/.ansible/tmp/molecule.*  2>/dev/null
  true
}

install_host_packages() {
  local need=()
  command -v systemd-nspawn >/dev/null || need+=(systemd-container)
  command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
  command -v nft >/dev/null || need+=(nftables)
  command -v zstd >/dev/null || need+=(zstd)
  [ -x /usr/sbin/apt-cacher-ng ] || need+=(apt-cacher-ng)
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  command -v git >/dev/null || need+=(git)
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || return 1
  fi
}

install_venv() {
  # ansible-core 2.20+ needs Python >= 3.12; Debian 12 has 3.11, so pin what was measured.
  if ! PATH=$MOL_VENV/bin:$PATH "$MOL_VENV/bin/molecule" --version >/dev/null 2>&1; then
    log "creating $MOL_VENV"
    /usr/bin/python3 -m venv "$MOL_VENV" &&
      "$MOL_VENV/bin/pip" install -q ansible==12.3.0 ansible-core==2.19.14 molecule==26.10.0 \
        ansible-lint==26.10.1 || return 1
  fi
  # The collections the roles use, pinned in requirements.yml (the ansible package bundles these
  # versions, so this is a no-op offline; a differing pin is fetched from Galaxy).
  log "ansible-galaxy collection install -r requirements.yml"
  PATH=$MOL_VENV/bin:$PATH "$MOL_VENV/bin/ansible-galaxy" collection install \
    -r "$REPO/requirements.yml" || return 1
}

build_template() {
  local hash tarball dir
  hash=$(sha256sum "$NSPAWN/build-template.sh" | cut -c1-12)
  tarball=/var/lib/machines/pulp-rootfs-bookworm-$hash.tar.zst
  dir=$MOL_BASE/rootfs-bookworm-$hash
  export MOL_TEMPLATE=$dir
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir"
  mkdir -p "$dir"
  if [ -f "$tarball" ]; then
    log "unpacking template $tarball"
    zstd -dc "$tarball" | tar --numeric-owner --xattrs --acls -C "$dir" -xf - || return 1
  else
    log "building template $dir"
    rmdir "$dir"
    "$NSPAWN/build-template.sh" "$dir" || return 1
    tar --numeric-owner --xattrs --acls -C "$dir" -cf - . | zstd -q -3 -T0 > "$tarball.tmp" &&
      mv "$tarball.tmp" "$tarball"
  fi
  touch "$dir/.complete"
}

start_apt_cacher() {
  # The package default backend host does not resolve here; deb.debian.org does.
  echo "http://deb.debian.org/debian/" > /etc/apt-cacher-ng/backends_debian
  mkdir -p /run/apt-cacher-ng /var/cache/apt-cacher-ng /var/log/apt-cacher-ng
  chown apt-cacher-ng: /run/apt-cacher-ng /var/cache/apt-cacher-ng /var/log/apt-cacher-ng
  su -s /bin/sh apt-cacher-ng -c "/usr/sbin/apt-cacher-ng -c /etc/apt-cacher-ng ForeGround=0 \
    BindAddress='$MOL_NET.1 127.0.0.1' CacheDir=/var/cache/apt-cacher-ng \
    LogDir=/var/log/apt-cacher-ng pidfile=/run/apt-cacher-ng/pid \
    SocketPath=/run/apt-cacher-ng/socket" || return 1
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/$MOL_NET.1/3142") 2>/dev/null && return 0
    sleep 0.2
  done
  log "apt-cacher-ng did not start"
  return 1
}

# build_wheel SRC_TREE_TAR_CMD OUTDIR: a wheel of this project, built from a copy of a tree so
# the checkout stays untouched.
build_wheel() {
  local outdir=$1 ref=${2:-} tmp
  tmp=$(mktemp -d)
  if [ -n "$ref" ]; then
    if ! git -C "$REPO" cat-file -e "$ref^{commit}" 2>/dev/null; then
      log "commit $ref is not in this clone (shallow?); fetching the full history"
      git -C "$REPO" fetch -q --unshallow 2>/dev/null || true
    fi
    git -C "$REPO" archive "$ref" | tar -x -C "$tmp" || return 1
  else
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
      tar --null -T - -cf -) | tar -x -C "$tmp" || return 1
  fi
  rm -rf "$outdir"
  mkdir -p "$outdir"
  "$MOL_VENV/bin/pip" wheel -q --no-deps -w "$outdir" "$tmp" 2>&1 | grep -v '^WARNING: Location'
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  rm -rf "$tmp"
  ls "$outdir"/pulpcore-*.whl >/dev/null
}

build_wheels() {
  local wh=$MOL_BASE/wheelhouse
  log "building the pulpcore wheel from the checkout"
  build_wheel "$MOL_BASE/dist/current" || return 1
  export MOL_PULP_WHEEL
  MOL_PULP_WHEEL=$(ls "$MOL_BASE"/dist/current/pulpcore-*.whl)
  rm -rf "$MOL_BASE/dist/previous"
  export MOL_PULP_PREVIOUS_WHEEL=
  if [ -n "$MOL_PULP_PREVIOUS_REF" ]; then
    log "building the previous release wheel from $MOL_PULP_PREVIOUS_REF"
    # Without it only the upgrade scenario fails (it checks for the wheel first).
    if build_wheel "$MOL_BASE/dist/previous" "$MOL_PULP_PREVIOUS_REF"; then
      MOL_PULP_PREVIOUS_WHEEL=$(ls "$MOL_BASE"/dist/previous/pulpcore-*.whl)
    else
      log "could not build the previous release $MOL_PULP_PREVIOUS_REF"
      rm -rf "$MOL_BASE/dist/previous"
    fi
  fi
  # Dependencies for the hosts: they install with --no-index from this read-only bind mount.
  mkdir -p "$wh"
  log "filling the wheelhouse $wh"
  local w
  for w in "$MOL_BASE"/dist/*/pulpcore-*.whl; do
    "$MOL_VENV/bin/pip" wheel -q -w "$wh" "$w" 2>&1 | grep -v '^WARNING: Location'
    [ "${PIPESTATUS[0]}" = 0 ] || return 1
  done
  rm -f "$wh"/pulpcore-*.whl
  "$MOL_VENV/bin/pip" wheel -q -w "$wh" "$MOL_S3_SERVER_REQ" 2>&1 | grep -v '^WARNING: Location'
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  export MOL_WHEELHOUSE=$wh
  export MOL_NSPAWN_EXTRA="--bind-ro=$wh:/srv/pulp-wheelhouse"
}

run_scenario() {
  local s=$1 t=${TIMEOUT[$1]:-1200} rc start
  start=$(date +%s)
  log "scenario $s (timeout ${t}s)"
  if [ "$s" = upgrade ] && [ -z "$MOL_PULP_PREVIOUS_WHEEL" ]; then
    log "scenario upgrade: FAILED: no wheel of the previous release ($MOL_PULP_PREVIOUS_REF)"
    return 1
  fi
  if [ "${MOL_KEEP:-0}" = 1 ]; then
    (cd "$REPO" && timeout "$t" molecule test -s "$s" --destroy never)
  else
    (cd "$REPO" && timeout "$t" molecule test -s "$s")
  fi
  rc=$?
  log "scenario $s: rc=$rc after $(( $(date +%s) - start ))s"
  if [ "${MOL_KEEP:-0}" != 1 ]; then
    (cd "$REPO" && timeout 120 molecule destroy -s "$s" >/dev/null 2>&1)
  fi
  return $rc
}

main() {
  local passed=0 failed=0 t0 s
  t0=$(date +%s)
  [ "$(id -u)" = 0 ] || { echo "molecule.sh must run as root"; echo "0 passed, 1 failed"; exit 1; }
  install_host_packages && install_venv || { echo "0 passed, 1 failed"; exit 1; }
  export PATH=$MOL_VENV/bin:$PATH
  # Destroying one scenario must not take the bridge (and apt-cacher-ng's address) away.
  export MOL_KEEP_NET=1
  # The real pulp CLI drives the end-to-end checks: the project's dev venv has it (make test
  # creates it); otherwise a venv of its own.
  if [ -z "${MOL_PULP_CLI:-}" ]; then
    if [ -x "$REPO/.venv/bin/pulp" ]; then
      export MOL_PULP_CLI=$REPO/.venv/bin/pulp
    else
      [ -x /opt/pulp-molecule/cli/bin/pulp ] || { /usr/bin/python3 -m venv /opt/pulp-molecule/cli &&
        /opt/pulp-molecule/cli/bin/pip install -q pulp-cli==0.41.1; }
      export MOL_PULP_CLI=/opt/pulp-molecule/cli/bin/pulp
    fi
  fi
  export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1
  cleanup
  [ "${MOL_KEEP:-0}" = 1 ] || trap cleanup EXIT
  # Static checks count as one test each.
  if bash "$REPO/systemd/verify.sh"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  if (cd "$REPO" && ansible-lint -q roles playbooks molecule); then
    passed=$((passed + 1)); log "ansible-lint: clean"
  else
    failed=$((failed + 1)); log "ansible-lint: FAILED"
  fi
  if bash "$REPO/molecule/shared/check-bad-input.sh"; then
    passed=$((passed + 1)); log "bad input checks: ok"
  else
    failed=$((failed + 1)); log "bad input checks: FAILED"
  fi
  mkdir -p "$MOL_BASE"
  if ! { build_template && "$NSPAWN/mol-net.sh" up && start_apt_cacher && build_wheels; }; then
    log "setup failed"
    echo "$passed passed, $((failed + ${#SCENARIOS[@]})) failed"
    exit 1
  fi
  export MOL_APT_PROXY="http://$MOL_NET.1:3142"
  log "setup done after $(( $(date +%s) - t0 ))s"
  for s in "${SCENARIOS[@]}"; do
    if run_scenario "$s"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  log "total $(( $(date +%s) - t0 ))s"
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}

main "$@"; exit $?
