#!/bin/bash
# Bad input stops install.yml at once, before any host is contacted, with a message naming what is
# missing. The example inventories name hosts that do not exist, so a play that got past the
# checks would fail differently (unreachable), and this script would notice.
# Usage: check-bad-input.sh   (ansible-playbook on PATH; run from anywhere)
set -uo pipefail
cd "$(dirname "$0")/../.."
fails=0
expect() {  # expect DESCRIPTION EXPECTED_MESSAGE ansible-playbook-args...
  local what=$1 want=$2 out rc
  shift 2
  out=$(ansible-playbook "$@" 2>&1)
  rc=$?
  if [ "$rc" != 0 ] && grep -qF "$want" <<<"$out" && ! grep -q "UNREACHABLE" <<<"$out"; then
    echo "ok: $what"
  else
    echo "FAILED: $what (rc=$rc, wanted: $want)"
    echo "$out" | tail -15
    fails=$((fails + 1))
  fi
}
expect "no passwords" \
  "Missing required variable(s): pulp_admin_password, pulp_database_password." \
  -i inventories/all-in-one.yml playbooks/install.yml
expect "no content origin (split inventory)" \
  "Missing required variable(s): pulp_content_origin." \
  -i inventories/split.yml playbooks/install.yml -e pulp_admin_password=x -e pulp_database_password=y \
  -e pulp_content_origin=
expect "content origin that is not a URL" \
  "pulp_content_origin must look like https://host[:port]" \
  -i inventories/all-in-one.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_content_origin=pulp.example.com
expect "nothing to install" \
  "Missing required variable: set pulp_wheel" \
  -i inventories/all-in-one.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_git_ref=
expect "upgrade.yml checks the same" \
  "Missing required variable(s): pulp_admin_password, pulp_database_password." \
  -i inventories/all-in-one.yml playbooks/upgrade.yml
[ "$fails" = 0 ]
