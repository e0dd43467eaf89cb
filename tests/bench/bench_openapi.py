"""OpenAPI benchmark: how long building and serving ``docs/api.json`` takes.

Prints figures, never asserts. Usage (from /work/main, venv active)::

    PULP_TEST_PREFIX=h1 python tests/bench/bench_openapi.py [--repeat 5]

Every ``pulp`` command without a cached document starts by fetching it, so the cold build (once
per API process and variant) and the cached response time both matter. Runs in-process through
Django's test client; no database is touched.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()
    from django.test import Client

    from pulpcore.app.views import PulpSchemaJSONView

    client = Client(HTTP_ACCEPT="application/json")
    cold = []
    for _ in range(args.repeat):
        PulpSchemaJSONView._documents.clear()
        start = time.perf_counter()
        response = client.get("/pulp/api/v3/docs/api.json")
        cold.append(time.perf_counter() - start)
    size = len(response.content)
    warm = []
    for _ in range(args.repeat * 4):
        start = time.perf_counter()
        client.get("/pulp/api/v3/docs/api.json")
        warm.append(time.perf_counter() - start)
    ops = sum(len(v) for v in response.json()["paths"].values())
    print(f"document: {ops} operations, {size / 1024:.0f} KiB")
    print(
        f"cold build + render: median {statistics.median(cold) * 1000:.0f} ms "
        f"(min {min(cold) * 1000:.0f}, max {max(cold) * 1000:.0f}) over {len(cold)} runs"
    )
    print(
        f"cached render:       median {statistics.median(warm) * 1000:.0f} ms "
        f"(min {min(warm) * 1000:.0f}, max {max(warm) * 1000:.0f}) over {len(warm)} runs"
    )


if __name__ == "__main__":
    main()
