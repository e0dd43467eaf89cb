"""Publish and modify benchmark for pulp_file (prints figures, never asserts speed).

Usage (from /work/main, venv active)::

    PULP_TEST_PREFIX=h4 PULP_TEST_REDIS_DB=5 python tests/bench/bench_publish.py [--files N ...]

For each size N: N file units with artifact rows are created directly in a fresh database, then
``add_and_remove`` (the ``modify/`` task body) adds them all in one new version, a no-op modify
runs, and ``publish`` writes the publication and its PULP_MANIFEST. Times are wall-clock seconds
in this process (no tasking); the query count shows that the work is set-based.
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)
from tests.stack import Stack  # noqa: E402


def make_units(n: int, tag: str) -> list[str]:
    from django.db import connection

    from pulp_file.app.models import FileContent
    from pulpcore.app.models import Artifact, Content, ContentArtifact

    shas = [hashlib.sha256(f"{tag}-{i}".encode()).hexdigest() for i in range(n)]
    Artifact.objects.bulk_create(
        [Artifact(size=16384, sha256=s, file=f"artifact/{s[:2]}/{s[2:]}") for s in shas],
        batch_size=1000,
    )
    artifacts = dict(Artifact.objects.filter(sha256__in=shas).values_list("sha256", "pk"))
    # Multi-table rows: master rows by bulk_create, detail rows by one INSERT (setup only).
    masters = Content.objects.bulk_create(
        [Content(pulp_type="file.file") for _ in shas], batch_size=1000
    )
    paths = [f"{tag}/{i}.iso" for i in range(n)]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {FileContent._meta.db_table} (content_ptr_id, relative_path, digest)"
            " VALUES (%s, %s, %s)",
            [(m.pk, p, s) for m, p, s in zip(masters, paths, shas, strict=True)],
        )
    ContentArtifact.objects.bulk_create(
        [
            ContentArtifact(content_id=m.pk, artifact_id=artifacts[s], relative_path=p)
            for m, p, s in zip(masters, paths, shas, strict=True)
        ],
        batch_size=1000,
    )
    return [str(m.pk) for m in masters]


def timed(func, *args, **kwargs) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        func(*args, **kwargs)
        elapsed = time.perf_counter() - started
    return elapsed, len(ctx.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    stack = Stack("bench_publish").setup()
    os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()
    from pulp_file.app.models import FileRepository
    from pulp_file.app.tasks.publishing import publish
    from pulpcore.app.tasks.repository import add_and_remove

    rows = []
    try:
        for n in args.files:
            repo = FileRepository.objects.create(name=f"bench-{n}")
            repo.new_version().complete_version()
            pks = make_units(n, f"n{n}")
            rows.append((f"modify add {n}", *timed(add_and_remove, str(repo.pk), pks, [])))
            rows.append((f"modify no-op {n}", *timed(add_and_remove, str(repo.pk), pks[:10], [])))
            version = repo.latest_version()
            rows.append((f"publish {n}", *timed(publish, str(version.pk))))
    finally:
        from django.db import connections

        connections.close_all()
        stack.drop_database()
    print(f"{'measure':24} {'seconds':>9} {'queries':>8}")
    for name, seconds, queries in rows:
        print(f"{name:24} {seconds:9.3f} {queries:8d}")


if __name__ == "__main__":
    main()
