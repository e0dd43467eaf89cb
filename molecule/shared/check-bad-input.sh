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
expect "S3 storage without a bucket or keys" \
  "pulp_storage_backend is s3 but pulp_aws_storage_bucket_name, pulp_aws_access_key_id, pulp_aws_secret_access_key is empty" \
  -i inventories/all-in-one.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_storage_backend=s3
expect "S3 storage without the secret key" \
  "pulp_storage_backend is s3 but pulp_aws_secret_access_key is empty" \
  -i inventories/split.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_storage_backend=s3 -e pulp_aws_storage_bucket_name=b \
  -e pulp_aws_access_key_id=k
expect "an unknown storage backend" \
  "pulp_storage_backend must be filesystem or s3, got nfs" \
  -i inventories/all-in-one.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_storage_backend=nfs
expect "an S3 endpoint that is not a URL" \
  "pulp_aws_s3_endpoint_url must look like https://host[:port], got minio:9000" \
  -i inventories/all-in-one.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_storage_backend=s3 -e pulp_aws_storage_bucket_name=b \
  -e pulp_aws_access_key_id=k -e pulp_aws_secret_access_key=s -e pulp_aws_s3_endpoint_url=minio:9000
expect "upgrade.yml checks the same" \
  "Missing required variable(s): pulp_admin_password, pulp_database_password." \
  -i inventories/all-in-one.yml playbooks/upgrade.yml
# The S3 keys never reach the output, even at -vvv when the play stops over the bucket.
out=$(ansible-playbook -vvv -i inventories/all-in-one.yml playbooks/install.yml -e pulp_admin_password=x \
  -e pulp_database_password=y -e pulp_storage_backend=s3 -e pulp_aws_access_key_id=AKIA-MUST-NOT-SHOW \
  -e pulp_aws_secret_access_key=secret-must-not-show 2>&1)
if grep -q "pulp_aws_storage_bucket_name is empty" <<<"$out" && ! grep -q "MUST-NOT-SHOW\|must-not-show" <<<"$out"; then
  echo "ok: S3 keys stay out of a -vvv log"
else
  echo "FAILED: S3 keys stay out of a -vvv log"
  grep -n "MUST-NOT-SHOW\|must-not-show" <<<"$out" | head -5
  fails=$((fails + 1))
fi
[ "$fails" = 0 ]
