"""Content guard benchmark: what a guard costs the content app (prints figures, never asserts).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_guards.py [--compare REF]

Setup through the API: one 16 KiB file distributed three times, unguarded, behind a header guard
and behind an x509 guard (a generated CA; the client sends a certificate it issued in
X-CLIENT-CERT, as the project's nginx site forwards a TLS client certificate). wrk at 10
connections against the content app of the ``make start`` stack; each guarded figure is printed
beside the unguarded one of the same round (target: a guard costs at most 15 %).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Figure, Stack, distribute, file_repository, run, wrk  # noqa: E402
from tests.certs import CA, header  # noqa: E402


def setup(stack: Stack, args: argparse.Namespace) -> dict[str, dict[str, str]]:
    repo = file_repository(stack, "bench-guards", {"small.bin": os.urandom(16 * 1024)})
    ca = CA.create("Bench CA")
    head = stack.create(
        "contentguards/core/header/",
        json={"name": "bench-header", "header_name": "X-Secret", "header_value": "s3cr3t"},
    )
    x509 = stack.create(
        "contentguards/certguard/x509/", json={"name": "bench-x509", "ca_certificate": ca.pem}
    )
    variants = {
        "none": ({}, None),
        "header": ({"X-Secret": "s3cr3t"}, head["pulp_href"]),
        "x509": ({"X-CLIENT-CERT": header(ca.issue())}, x509["pulp_href"]),
    }
    for name, (headers, guard) in variants.items():
        extra = {"content_guard": guard} if guard else {}
        distribute(stack, f"bench-{name}", repository=repo["pulp_href"], **extra)
        url = f"{stack.content_url}bench-{name}/small.bin"
        if requests.get(url, headers=headers, timeout=10).status_code != 200:
            raise RuntimeError(f"{name}: the allowed request was refused")
        if guard and requests.get(url, timeout=10).status_code != 403:
            raise RuntimeError(f"{name}: a request without credentials was not refused")
    return {name: headers for name, (headers, _) in variants.items()}


def measure(stack: Stack, variants: dict, args: argparse.Namespace) -> list[Figure]:
    rps = {
        name: wrk(f"{stack.content_url}bench-{name}/small.bin", args.seconds, headers=h).rps
        for name, h in variants.items()
    }
    out = [Figure("16KiB unguarded c10", rps["none"], "req/s")]
    for name in ("header", "x509"):
        out.append(Figure(f"16KiB {name} guard c10", rps[name], "req/s", rps["none"], "unguarded"))
    return out


if __name__ == "__main__":
    run("guards", setup, measure, title="content guards: content app, guarded vs unguarded")
