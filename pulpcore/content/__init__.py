"""``pulp-content``: the aiohttp app that serves distributed content."""

import sys


def main() -> None:
    sys.stderr.write("pulp-content: not available yet\n")
    raise SystemExit(1)
