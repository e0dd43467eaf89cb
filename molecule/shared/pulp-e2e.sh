#!/bin/bash
# End-to-end check through nginx with the real pulp CLI, run on the controller:
# remote -> repository -> sync -> publication -> distribution -> download every file and compare
# its sha256 with the source manifest (following a redirect to object storage).
# Usage: pulp-e2e.sh BASE_URL CA_FILE ADMIN_PASSWORD MANIFEST_URL NAME LOCAL_MANIFEST
# Environment: PULP_CLI (path of `pulp`).
set -euo pipefail
BASE=$1 CA=$2 PASSWORD=$3 MANIFEST_URL=$4 NAME=$5 LOCAL_MANIFEST=$6
PULP=${PULP_CLI:-pulp}
export REQUESTS_CA_BUNDLE=$CA
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$(mktemp -d)} XDG_CONFIG_HOME=${XDG_CONFIG_HOME:-$(mktemp -d)}
pulp() { "$PULP" --base-url "$BASE" --username admin --password "$PASSWORD" --format json "$@"; }
step() { echo "e2e: $*"; }

# download_all URL: every file of the manifest from the distribution, checksums compared.
download_all() {
  local url=$1 n=0 path sha size got
  step "download from $url"
  while IFS=, read -r path sha size; do
    [ -n "$path" ] || continue
    # -L: on object storage the content app redirects to a presigned URL of the store.
    got=$(curl -fsSL --cacert "$CA" "${url%/}/$path" | sha256sum | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
      echo "e2e: $path: sha256 $got, expected $sha"
      exit 1
    fi
    n=$((n + 1))
  done < "$LOCAL_MANIFEST"
  [ "$n" -gt 0 ] || { echo "e2e: empty manifest"; exit 1; }
  step "downloaded $n files through nginx, all checksums match"
}

# E2E_CHECK_ONLY=1: the objects exist already (e.g. created before an upgrade); only check them.
if [ "${E2E_CHECK_ONLY:-0}" = 1 ]; then
  pulp file repository show --name "$NAME" >/dev/null
  step "repository $NAME is there"
  download_all "$(pulp file distribution show --name "$NAME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["base_url"])')"
  exit 0
fi

step "remote $NAME"
pulp file remote create --name "$NAME" --url "$MANIFEST_URL" --policy immediate >/dev/null
step "repository $NAME"
pulp file repository create --name "$NAME" --remote "$NAME" >/dev/null
step "sync"
pulp file repository sync --name "$NAME" >/dev/null
version=$(pulp file repository show --name "$NAME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest_version_href"])')
case "$version" in */versions/1/) ;; *) echo "e2e: unexpected latest version $version"; exit 1 ;; esac
step "publication of $version"
pub=$(pulp file publication create --repository "$NAME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pulp_href"])')
step "distribution $NAME -> $pub"
pulp file distribution create --name "$NAME" --base-path "$NAME" --publication "$pub" >/dev/null
url=$(pulp file distribution show --name "$NAME" | python3 -c 'import json,sys; print(json.load(sys.stdin)["base_url"])')
download_all "$url"
