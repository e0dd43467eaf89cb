"""Export and import benchmark: wall time and the worker's peak RSS (prints figures only).

Usage (venv active, from the worktree)::

    PULP_TEST_PREFIX=h12 PULP_TEST_REDIS_DB=9 python tests/bench/bench_export.py

Two stacks with their own database and MEDIA_ROOT, each with one worker. For each case
(1,000 files of 16 KiB, 50 files of 4 MiB) a file repository is filled on the source stack, a
PulpExporter exports it (one task, timed from POST to the task's end) and a PulpImporter on the
target stack imports the TOC into a new repository (timed until the whole task group finished).
Each phase runs on a freshly started worker so ``VmHWM`` of its process is that phase's peak RSS.
"""

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests import testenv  # noqa: E402
from tests.stack import Stack, wait_for  # noqa: E402

CASES = [(1000, 16 * 1024), (50, 4 * 1024 * 1024)]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fresh_worker(stack: Stack) -> int:
    stack.stop("worker")
    return stack.start_worker("worker").pid


def make_stack(name: str, share: Path) -> Stack:
    allowed = json.dumps([str(share)])
    stack = Stack(
        name, extra_env={"PULP_ALLOWED_EXPORT_PATHS": allowed, "PULP_ALLOWED_IMPORT_PATHS": allowed}
    ).setup()
    stack.start_api()
    if stack.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower() not in ("true", "1", "yes"):
        stack.start_resource_manager("resource-manager")
    return stack


def fill(repo_name: str, count: int, size: int) -> None:
    """Create the repository's files in the source database (this process is set up for it)."""
    from django.conf import settings

    from pulp_file.app.models import FileContent, FileRepository
    from pulpcore.app.models import ContentArtifact
    from pulpcore.plugin.util import new_version, store_artifact_file

    repo = FileRepository.objects.get(name=repo_name)
    units = []
    for i in range(count):
        path = os.path.join(settings.WORKING_DIRECTORY, uuid.uuid4().hex)
        with open(path, "wb") as fh:
            fh.write(os.urandom(size))
        artifact = store_artifact_file(path)
        unit = FileContent.objects.create(relative_path=f"f{i}.bin", digest=artifact.sha256)
        ContentArtifact.objects.create(
            content=unit, artifact=artifact, relative_path=unit.relative_path
        )
        units.append(unit.pk)
    with new_version(repo) as version:
        version.add_content(FileContent.objects.filter(pk__in=units))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.parse_args()
    share = Path(testenv.ROOT) / "bench-export-share"
    share.mkdir(parents=True, exist_ok=True)
    src = make_stack("bench-exp-src", share)
    dst = make_stack("bench-exp-dst", share)
    try:
        for key in ("PULP_DATABASES__default__NAME", "PULP_MEDIA_ROOT", "PULP_WORKING_DIRECTORY"):
            os.environ[key] = src.env[key]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
        import django

        django.setup()
        print(f"{'case':>18} {'phase':>7} {'seconds':>8} {'MiB/s':>7} {'peak RSS MiB':>13}")
        for count, size in CASES:
            tag = uuid.uuid4().hex[:6]
            repo = f"bench-{count}-{tag}"
            href = src.post("repositories/file/file/", json={"name": repo}).json()["pulp_href"]
            fill(repo, count, size)
            mib = count * size / 2**20
            label = f"{count} x {size // 1024} KiB"

            pid = fresh_worker(src)
            exporter = src.post(
                "exporters/core/pulp/",
                json={"name": f"e-{tag}", "path": str(share / tag), "repositories": [href]},
            ).json()
            start = time.monotonic()
            task = src.post(f"{exporter['pulp_href']}exports/", json={}).json()["task"]
            result = src.wait_task(task, timeout=1800)
            took = time.monotonic() - start
            assert result["state"] == "completed", result
            print(
                f"{label:>18} {'export':>7} {took:8.2f} {mib / took:7.1f} {peak_rss_mib(pid):13.1f}"
            )
            export = src.get(f"{exporter['pulp_href']}exports/").json()["results"][0]

            pid = fresh_worker(dst)
            importer = dst.post("importers/core/pulp/", json={"name": f"i-{tag}"}).json()
            start = time.monotonic()
            group = dst.post(
                f"{importer['pulp_href']}imports/",
                json={"toc": export["toc_info"]["file"], "create_repositories": True},
            ).json()["task_group"]

            def finished(group=group):
                g = dst.get(group).json()
                busy = g["waiting"] + g["running"] + g["canceling"]
                return g if g["all_tasks_dispatched"] and not busy else None

            g = wait_for(finished, timeout=1800, interval=0.2, what="import")
            took = time.monotonic() - start
            assert g["failed"] == 0, g
            print(
                f"{label:>18} {'import':>7} {took:8.2f} {mib / took:7.1f} {peak_rss_mib(pid):13.1f}"
            )
    finally:
        src.stop_all()
        dst.stop_all()


if __name__ == "__main__":
    main()
