"""Export and import benchmark through the ``make start`` stack's API and workers: wall time and
the workers' peak RSS (prints figures, never asserts).

Usage (venv active; options: see tests/bench/harness.py)::

    PULP_TEST_PREFIX=h3 PULP_TEST_REDIS_DB=7 python tests/bench/bench_export.py [--compare REF]

Setup syncs two repositories (1,000 × 16 KiB and 50 × 4 MiB, served by an nginx of the bench's
own). Each round a PulpExporter exports each (one task, task wall time) and a PulpImporter
imports the TOC into a new repository on the same stack through ``repo_mapping`` (until the whole
task group finished). The stack's settings.yaml allows one shared directory for both.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.harness import (  # noqa: E402
    Figure,
    Stack,
    StaticServer,
    run,
    synced_repository,
)
from tests.fixtures import make_file_fixture  # noqa: E402

CASES = {"1000 x 16KiB": (1000, 16 * 1024), "50 x 4MiB": (50, 4 * 1024 * 1024)}
SHARE = Path(tempfile.gettempdir()) / "pulp-bench-export-share"


def setup(stack: Stack, args: argparse.Namespace) -> dict:
    root = Path(tempfile.mkdtemp(prefix="pulp-bench-export-"))
    repos = {}
    with StaticServer(root) as origin:
        for i, (label, (count, size)) in enumerate(CASES.items()):
            make_file_fixture(root / str(i), count=count, size=size)
            (root / str(i)).chmod(0o755)
            repos[label], _, _ = synced_repository(
                stack, f"src-{i}", f"{origin.url}{i}/PULP_MANIFEST"
            )
    shutil.rmtree(root, ignore_errors=True)
    return {"repos": repos, "round": 0}


def measure(stack: Stack, ctx: dict, args: argparse.Namespace) -> list[Figure]:
    ctx["round"] += 1
    out = []
    for i, (label, repo) in enumerate(ctx["repos"].items()):
        tag = f"{stack.label.replace('/', '-')}-{i}-{ctx['round']}"
        path = SHARE / tag
        exporter = stack.create(
            "exporters/core/pulp/",
            json={"name": f"e-{tag}", "path": str(path), "repositories": [repo["pulp_href"]]},
        )
        _, exported = stack.run_task(f"{exporter['pulp_href']}exports/", json={})
        export = stack.get(f"{exporter['pulp_href']}exports/").json()["results"][0]
        dst = f"dst-{tag}"
        stack.create("repositories/file/file/", json={"name": dst})
        importer = stack.create(
            "importers/core/pulp/", json={"name": f"i-{tag}", "repo_mapping": {repo["name"]: dst}}
        )
        start = time.time()
        group = stack.create(
            f"{importer['pulp_href']}imports/", json={"toc": export["toc_info"]["file"]}
        )["task_group"]
        stack.wait_group(group, timeout=1800)
        imported = time.time() - start
        shutil.rmtree(path, ignore_errors=True)
        out += [Figure(f"export {label}", exported, "s"), Figure(f"import {label}", imported, "s")]
    out.append(Figure("workers' peak RSS", stack.worker_peak_rss_mib(), "MiB"))
    return out


if __name__ == "__main__":
    SHARE.mkdir(parents=True, exist_ok=True)
    allowed = [str(SHARE)]
    try:
        run(
            "export",
            setup,
            measure,
            title="export and import (task wall time)",
            settings={"ALLOWED_EXPORT_PATHS": allowed, "ALLOWED_IMPORT_PATHS": allowed},
        )
    finally:
        shutil.rmtree(SHARE, ignore_errors=True)
