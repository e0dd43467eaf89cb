"""``pulpcore-worker``: runs tasks (rq worker, resource-manager, or PostgreSQL worker)."""

import sys


def main() -> None:
    sys.stderr.write("pulpcore-worker: not available yet\n")
    raise SystemExit(1)
