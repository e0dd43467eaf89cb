"""Content guard benchmark: what a guard costs the content app (prints figures, never asserts).

Usage (venv active)::

    PULP_TEST_PREFIX=h11 PULP_TEST_REDIS_DB=8 python tests/bench/bench_guards.py [--seconds 3]

On a fresh database of its own it distributes one 16 KiB file three times: unguarded, behind a
header guard and behind an x509 guard (a generated CA; the client sends a certificate it issued in
X-CLIENT-CERT, as nginx would). One ``pulp-content`` process serves them; an aiohttp client with 10
keep-alive connections fetches each URL for a few seconds, the three alternating for several
rounds (the machine is shared, so each keeps its best round). It prints requests/s, the content
app's CPU time per request, and each guard's cost relative to the unguarded rate (target: at most
15 %).
"""

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)
from tests.bench.bench_content import session_cpu_seconds  # noqa: E402
from tests.certs import CA, header  # noqa: E402
from tests.stack import Stack  # noqa: E402


def setup_data(stack: Stack) -> dict[str, str]:
    """Three distributions of the same file; returns variant -> CLIENT header dict key."""
    for key in ("PULP_DATABASES__default__NAME", "PULP_MEDIA_ROOT", "PULP_WORKING_DIRECTORY"):
        os.environ[key] = stack.env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()
    from pulp_certguard.app.models import X509CertGuard
    from pulpcore.app.models import HeaderContentGuard
    from tests.unit.content_support import add_files, distribute, make_repository

    repo = make_repository()
    add_files(repo, {"small.bin": os.urandom(16 * 1024)})
    ca = CA.create("Bench CA")
    distribute("bench-none", repository=repo)
    distribute(
        "bench-header",
        repository=repo,
        content_guard=HeaderContentGuard.objects.create(
            name="bench-header", header_name="X-Secret", header_value="s3cr3t"
        ),
    )
    distribute(
        "bench-x509",
        repository=repo,
        content_guard=X509CertGuard.objects.create(name="bench-x509", ca_certificate=ca.pem),
    )
    return {
        "none": {},
        "header": {"X-Secret": "s3cr3t"},
        "x509": {"X-CLIENT-CERT": header(ca.issue())},
    }


def hammer(url: str, headers: dict, seconds: float, connections: int = 10) -> int:
    """Requests completed in ``seconds`` by ``connections`` keep-alive clients (all must be 200)."""
    import aiohttp

    async def run() -> int:
        done = 0
        stop = time.monotonic() + seconds
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections), headers=headers
        ) as session:

            async def worker():
                nonlocal done
                while time.monotonic() < stop:
                    async with session.get(url) as resp:
                        await resp.read()
                        if resp.status != 200:
                            raise RuntimeError(f"{url}: {resp.status}")
                    done += 1

            await asyncio.gather(*(worker() for _ in range(connections)))
        return done

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    stack = Stack("bench_guards").setup()
    results: dict[str, tuple[float, float]] = {}
    try:
        variants = setup_data(stack)
        content = stack.start_content(workers=1)
        base = f"{stack.content_origin}/pulp/content/"
        for name, headers in variants.items():
            url = f"{base}bench-{name}/small.bin"
            assert requests.get(url, headers=headers, timeout=10).status_code == 200, name
            if name != "none":
                assert requests.get(url, timeout=10).status_code == 403, name
        for _ in range(args.rounds):
            for name, headers in variants.items():
                cpu0 = session_cpu_seconds(content.pid)
                count = hammer(f"{base}bench-{name}/small.bin", headers, args.seconds)
                cpu = session_cpu_seconds(content.pid) - cpu0
                rps, cpu_us = count / args.seconds, cpu / max(count, 1) * 1e6
                if rps > results.get(name, (0.0, 0.0))[0]:
                    results[name] = (rps, cpu_us)
    finally:
        stack.stop_all()
        stack.drop_database()

    print(
        f"\ncontent app, 1 process, 16 KiB file, aiohttp client at 10 connections, "
        f"{args.seconds:.0f} s per run, best of {args.rounds} alternating rounds; "
        f"load average before: {load_before} (shared machine)"
    )
    print(f"{'guard':>7} {'req/s':>8} {'cpu/req':>10} {'req/s cost':>11} {'cpu cost':>9}")
    none_rps, none_cpu = results["none"]
    for name, (rps, cpu_us) in results.items():
        if name == "none":
            print(f"{name:>7} {rps:>8.0f} {cpu_us:>7.0f} µs")
            continue
        rps_cost = (1 - rps / none_rps) * 100
        cpu_cost = (cpu_us / none_cpu - 1) * 100
        print(f"{name:>7} {rps:>8.0f} {cpu_us:>7.0f} µs {rps_cost:>10.1f}% {cpu_cost:>8.1f}%")
    print("(cost: share of the unguarded rate lost / extra server CPU per request; target 15 %)")


if __name__ == "__main__":
    main()
