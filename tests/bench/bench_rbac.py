"""RBAC benchmark: list rates for admin and for a non-admin whose view comes from object roles.

Prints figures, never asserts. Usage (venv active)::

    PULP_TEST_PREFIX=h10 PULP_TEST_REDIS_DB=7 python tests/bench/bench_rbac.py [--seconds 5]

On a fresh database it stores 100 file repositories (each with one file in its version 1), gives
user ``scoped`` the viewer role on 50 of them (so every request runs the access policy, loads the
user's 50 object roles and scopes the queryset), starts the API under gunicorn with 2 workers and
runs ``wrk`` (10 Python threads when wrk isn't installed) at 10 connections against
``content/file/files/?limit=100`` and ``repositories/file/file/`` as admin and as ``scoped``.

Figures on the shared 2-core machine under load from other work (05:02, no wrk, 5 s each):
content/file/files/?limit=100 admin 5.4 req/s (100 rows), scoped 7.2 req/s (50 rows);
repositories/file/file/ admin 11.8 req/s (100 rows), scoped 10.4 req/s (50 rows). Both lists
still make queries per row for everyone (see the pins in tests/unit/test_query_counts.py);
RBAC adds a fixed 2-3 queries per request.
"""

import argparse
import base64
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402,F401  (sets PULP_* defaults for this prefix)
from tests.bench.bench_api import wrk  # noqa: E402
from tests.stack import Stack  # noqa: E402

SCOPED_PASSWORD = "Scoped-Bench-Pass-1"

_SETUP = f"""
import hashlib, uuid
from django.contrib.auth import get_user_model
from pulp_file.app.models import FileContent, FileRepository
from pulpcore.app.access.roles import assign_role
from pulpcore.app.models import Artifact, ContentArtifact, RepositoryVersion
user = get_user_model().objects.create_user("scoped", password="{SCOPED_PASSWORD}")
for i in range(100):
    tag = uuid.uuid4().hex
    sha = hashlib.sha256(tag.encode()).hexdigest()
    artifact = Artifact.objects.create(file=f"artifact/{{sha[:2]}}/{{sha[2:]}}", size=1, sha256=sha)
    repo = FileRepository.objects.create(name=f"repo-{{tag}}", next_version=2)
    RepositoryVersion.objects.create(repository=repo, number=0, complete=True)
    version = RepositoryVersion.objects.create(repository=repo, number=1)
    content = FileContent.objects.create(relative_path=tag, digest=sha)
    ContentArtifact.objects.create(content=content, artifact=artifact, relative_path=tag)
    version.add_content(FileContent.objects.filter(pk=content.pk))
    version.complete = True
    version.save()
    if i % 2 == 0:
        assign_role("file.filerepository_viewer", user=user, obj=repo)
"""


def rate(url: str, seconds: int, headers: dict) -> float:
    """Requests/s at 10 connections: ``wrk`` when installed, else 10 Python threads."""
    import shutil
    import threading
    import time

    if shutil.which("wrk"):
        return wrk(url, seconds, headers)
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop():
        session = requests.Session()
        while time.monotonic() < stop:
            session.get(url, headers=headers, timeout=60).raise_for_status()
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(10)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()

    stack = Stack("bench_rbac").setup()
    try:
        stack.manage("shell", "-c", _SETUP)
        stack.start_api(workers=2)

        def header(user: str, password: str) -> dict:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}

        admin = header("admin", stack.admin_password)
        scoped = header("scoped", SCOPED_PASSWORD)
        seen = requests.get(stack.url("repositories/file/file/"), headers=scoped, timeout=30)
        assert seen.json()["count"] == 50, seen.text[:300]
        for path in ("content/file/files/?limit=100", "repositories/file/file/"):
            for label, headers in (("admin", admin), ("scoped", scoped)):
                rps = rate(stack.url(path), args.seconds, headers)
                print(f"{path:32} {label:7} {rps:8.1f} req/s")
    finally:
        stack.stop_all()
        stack.drop_database()


if __name__ == "__main__":
    main()
