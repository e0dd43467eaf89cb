#!/bin/bash
# Remove everything the end-to-end checks created (distributions, repositories with their
# versions and publications, remotes), then run orphan cleanup with no protection time, so every
# artifact becomes an orphan and must leave the bucket. Run on the controller.
# Usage: pulp-orphans.sh BASE_URL CA_FILE ADMIN_PASSWORD    Environment: PULP_CLI (path of `pulp`).
set -euo pipefail
BASE=$1 CA=$2 PASSWORD=$3
PULP=${PULP_CLI:-pulp}
export REQUESTS_CA_BUNDLE=$CA
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$(mktemp -d)} XDG_CONFIG_HOME=${XDG_CONFIG_HOME:-$(mktemp -d)}
pulp() { "$PULP" --base-url "$BASE" --username admin --password "$PASSWORD" --format json "$@"; }
names() { python3 -c 'import json,sys; print("\n".join(o["name"] for o in json.load(sys.stdin)))'; }

for kind in distribution repository remote; do
  for name in $(pulp file "$kind" list --limit 1000 | names); do
    echo "orphans: destroy $kind $name"
    pulp file "$kind" destroy --name "$name" >/dev/null
  done
done
echo "orphans: orphan cleanup"
pulp orphan cleanup --protection-time 0 >/dev/null
left=$(pulp artifact list --limit 1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$left" = 0 ] || { echo "orphans: artifacts left after the cleanup"; exit 1; }
echo "orphans: no artifact left"
