"""Storage benchmark: the same syncs and downloads on filesystem storage and on S3, in one run.

Usage (venv active; prints figures, never asserts speed)::

    PULP_TEST_PREFIX=h1 PULP_TEST_REDIS_DB=5 python tests/bench/bench_storage.py [--rounds N]

Two stacks as ``make start`` runs them (tests/bench/harness.py), side by side: ``fs`` stores under
MEDIA_ROOT, ``s3`` in a bucket of a moto server (a real S3-compatible HTTP server on loopback,
started here). Rounds alternate between them so both see the same machine load. Figures:

* sync of 1,000 x 16 KiB and of 50 x 4 MiB files (``immediate``; POST sync/ to task finished, by
  the client's clock; fresh random files every round, so every artifact is new);
* a 4 MiB download through the content app: filesystem (sendfile), S3 with a 302 to a presigned URL
  (``REDIRECT_TO_OBJECT_STORAGE``, the default; the client then fetches from the store) and S3
  streamed through the content app (the stack restarted with the setting off). Each as whole
  downloads per second by one client, and as the content app's own answers/s under wrk (for a
  redirect that is the 302 alone: the bytes come from the store).

moto is a Python server, far slower than S3 or MinIO at moving bytes: the S3 figures are about the
shape of Pulp's cost (uploads after verification, signing, relaying), not about S3's speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import Figure, Stack, common_args, wrk  # noqa: E402
from tests.fixtures import make_file_fixture  # noqa: E402
from tests.s3 import MotoServer  # noqa: E402

SMALL = (1000, 16 * 1024)
BIG = (50, 4 * 1024 * 1024)


def _origin(root: Path):
    from tests.bench.bench_sync import origin_for

    return origin_for(root)[0]


def sync_once(stack: Stack, url: str) -> float:
    """Seconds from POST sync/ to the task's finish, for a new repository and remote."""
    name = uuid.uuid4().hex[:8]
    remote = stack.post(
        "remotes/file/file/", json={"name": name, "url": url, "policy": "immediate"}
    ).json()
    repo = stack.post("repositories/file/file/", json={"name": name}).json()
    started = time.time()
    task = stack.post(repo["pulp_href"] + "sync/", json={"remote": remote["pulp_href"]}).json()
    stack.wait_task(task["task"], timeout=1800)
    elapsed = time.time() - started
    return elapsed


def distribute_big(stack: Stack, url: str) -> str:
    """Sync the big files once more into a distributed publication; the URL of one 4 MiB file."""
    name = uuid.uuid4().hex[:8]
    remote = stack.post(
        "remotes/file/file/", json={"name": name, "url": url, "policy": "immediate"}
    ).json()
    repo = stack.post("repositories/file/file/", json={"name": name}).json()
    task = stack.post(repo["pulp_href"] + "sync/", json={"remote": remote["pulp_href"]}).json()
    stack.wait_task(task["task"], timeout=1800)
    task = stack.post("publications/file/file/", json={"repository": repo["pulp_href"]}).json()
    publication = stack.wait_task(task["task"])["created_resources"][0]
    task = stack.post(
        "distributions/file/file/",
        json={"name": name, "base_path": f"bench-{name}", "publication": publication},
    ).json()
    stack.wait_task(task["task"])
    return f"{stack.content_url.rstrip('/')}/bench-{name}/0.iso"


def downloads_per_second(url: str, seconds: float) -> tuple[float, int]:
    """Whole 4 MiB downloads per second by one client (following a redirect); final status."""
    import requests

    session = requests.Session()
    done, status = 0, 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    while time.monotonic() < deadline:
        r = session.get(url, timeout=120)
        status = r.status_code
        if status != 200 or len(r.content) != BIG[1]:
            raise RuntimeError(f"download of {url} answered {status}, {len(r.content)} bytes")
        done += 1
    return done / (time.monotonic() - started), status


def main() -> None:
    parser = common_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = parser.parse_args()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-storage-"))
    work.chmod(0o755)  # nginx's worker (not root) serves the fixtures from here
    moto = MotoServer(bucket=f"bench-{uuid.uuid4().hex[:8]}").start()
    s3_settings = moto.settings()
    s3_settings["STORAGES"] = {"default": {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage"}}
    base = args.ports
    fs = Stack(
        "storage_fs", base, base + 1 if base else None, args.redis_db, nginx=False, keep=args.keep
    )
    s3_db = args.ref_redis_db if args.ref_redis_db is not None else (args.redis_db or 0) + 5
    s3 = Stack(
        "storage_s3",
        base + 5 if base else None,
        base + 6 if base else None,
        s3_db,
        settings=s3_settings,
        nginx=False,
        keep=args.keep,
    )
    best: dict[str, dict[str, Figure]] = {"fs": {}, "s3": {}}
    dl = "content 4 MiB whole downloads/s (1 client)"
    ans = "content 4 MiB answers/s (wrk, 4 conns)"

    def keep(label: str, fig: Figure) -> None:
        prev = best[label].get(fig.name)
        best[label][fig.name] = fig.better(prev) if prev else fig

    try:
        with fs, s3:
            for round_no in range(max(1, args.rounds)):
                for count, size in (SMALL, BIG):
                    root = work / f"r{round_no}-{count}"
                    make_file_fixture(root, count=count, size=size)
                    with _origin(root) as origin:
                        url = origin.url + "PULP_MANIFEST"
                        for label, stack in (("fs", fs), ("s3", s3)):
                            seconds = sync_once(stack, url)
                            name = f"sync {count} x {size // 1024} KiB"
                            keep(label, Figure(name, seconds, "s"))
                    shutil.rmtree(root)
            root = work / "content"
            make_file_fixture(root, count=2, size=BIG[1])
            with _origin(root) as origin:
                urls = {
                    label: distribute_big(stack, origin.url + "PULP_MANIFEST")
                    for label, stack in (("fs", fs), ("s3", s3))
                }
            modes = {"fs": "filesystem", "s3": "S3 redirect"}
            for label in ("fs", "s3"):
                rate, _ = downloads_per_second(urls[label], args.seconds)
                keep(label, Figure(f"{dl}: {modes[label]}", rate, "req/s"))
                r = wrk(urls[label], seconds=args.seconds, connections=4)
                keep(label, Figure(f"{ans}: {modes[label]}", r.rps, "req/s"))
            s3.restart(PULP_REDIRECT_TO_OBJECT_STORAGE="false")
            rate, _ = downloads_per_second(urls["s3"], args.seconds)
            keep("s3", Figure(f"{dl}: S3 streamed", rate, "req/s"))
            r = wrk(urls["s3"], seconds=args.seconds, connections=4)
            keep("s3", Figure(f"{ans}: S3 streamed", r.rps, "req/s"))
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()
    print(f"\nstorage: filesystem vs S3 (moto server), best of {max(1, args.rounds)} round(s)")
    print(f"{'figure':<58} {'filesystem':>11} {'S3':>11} {'S3/fs':>7}")
    names = list(dict.fromkeys([*best["fs"], *best["s3"]]))
    fs_dl = best["fs"].get(f"{dl}: filesystem")
    fs_ans = best["fs"].get(f"{ans}: filesystem")
    for name in names:
        f, o = best["fs"].get(name), best["s3"].get(name)
        if f is None and o is not None:  # an S3 mode: compare with the filesystem's figure
            f = fs_dl if name.startswith(dl) else fs_ans
            fcol = "-"
        else:
            fcol = f"{f.value:.2f} {f.unit}" if f else "-"
        ocol = f"{o.value:.2f} {o.unit}" if o else "-"
        ratio = f"{o.value / f.value:.2f}" if f and o and f.value else "-"
        print(f"{name:<58} {fcol:>11} {ocol:>11} {ratio:>7}")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} (2 cores shared)"
    )


if __name__ == "__main__":
    main()
