"""API benchmark: requests/s for status/ and artifact lists, and what the basic-auth cache saves.

Prints figures, never asserts. Usage (from /work/main, venv active)::

    PULP_TEST_PREFIX=h2 PULP_TEST_REDIS_DB=2 python tests/bench/bench_api.py [--seconds 5]

On a fresh database of its own it stores 100 small artifacts, starts the API under gunicorn with
2 workers (as the project's reference performance figures) and runs ``wrk``
at 10 connections against:

* ``status/`` (anonymous);
* ``artifacts/?limit=100`` with basic auth (the credential cache warm after the first request);
* then, sequentially, the time of one request whose credentials no worker has verified yet (the
  full password hash) against the mean of 20 requests once every worker has cached them.

Figures on the shared 2-core machine, load average ~6 from other work (09:13):
status/ 160 req/s, artifacts/?limit=100 73 req/s, uncached request 555 ms, cached 10.6 ms.
"""

import argparse
import base64
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)
from tests.stack import Stack  # noqa: E402


def wrk(url: str, seconds: int, headers: dict | None = None) -> float:
    args = ["wrk", "-t2", "-c10", f"-d{seconds}s"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  warning: {non2xx.group(1)} non-2xx responses for {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()

    stack = Stack("bench_api").setup()
    try:
        stack.start_api(workers=2)
        for i in range(100):
            r = stack.post("artifacts/", files={"file": (f"f{i}", os.urandom(1024))})
            r.raise_for_status()
        auth = "Basic " + base64.b64encode(f"admin:{stack.admin_password}".encode()).decode()

        status_rps = wrk(stack.url("status/"), args.seconds)
        list_rps = wrk(stack.url("artifacts/?limit=100"), args.seconds, {"Authorization": auth})

        # A user whose credentials no worker has verified yet pays the full password hash.
        stack.manage("shell", "-c", _CREATE_USER)
        start = time.perf_counter()
        requests.get(
            stack.url("artifacts/?limit=1"), auth=("bench-fresh", "fresh-pass"), timeout=30
        ).raise_for_status()
        cold = time.perf_counter() - start
        # Every gunicorn worker verifies once; after that all of them answer from the cache.
        for _ in range(10):
            requests.get(
                stack.url("artifacts/?limit=1"), auth=("bench-fresh", "fresh-pass"), timeout=30
            ).raise_for_status()
        start = time.perf_counter()
        for _ in range(20):
            requests.get(
                stack.url("artifacts/?limit=1"), auth=("bench-fresh", "fresh-pass"), timeout=30
            ).raise_for_status()
        warm = (time.perf_counter() - start) / 20

        print(f"status/ (anonymous, 10 connections):            {status_rps:8.1f} req/s")
        print(f"artifacts/?limit=100 (basic auth, 10 conns):    {list_rps:8.1f} req/s")
        print(f"one request, credentials never seen (hashing):  {cold * 1000:8.1f} ms")
        print(f"one request, credentials cached (mean of 20):   {warm * 1000:8.1f} ms")
    finally:
        stack.stop_all()
        stack.drop_database()


_CREATE_USER = (
    "from django.contrib.auth import get_user_model; "
    "get_user_model().objects.create_user('bench-fresh', password='fresh-pass')"
)

if __name__ == "__main__":
    main()
