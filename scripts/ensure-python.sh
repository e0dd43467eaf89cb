#!/usr/bin/env bash
# Make sure a Python >= 3.11 with venv exists (installs python3-venv with apt when root).
set -euo pipefail
PY=${1:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-dev >/dev/null
  else
    echo "error: $PY not found; install Python >= 3.11 (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
  fi
fi
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "error: Python >= 3.11 is required, $PY is $("$PY" -V 2>&1)" >&2; exit 1; }
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  else
    echo "error: the venv module is missing; run: sudo apt-get install python3-venv" >&2
    exit 1
  fi
fi
