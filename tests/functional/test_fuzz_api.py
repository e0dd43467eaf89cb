"""Fuzz the live API against its own OpenAPI document with schemathesis: no input may answer 5xx.

Bounded so it runs in every ``make test``: a few generated requests per operation, a time budget
(FUZZ_MAX_TIME, default 50 s), a fixed seed (FUZZ_SEED to vary it), and the bulk operations that
would wipe or rewrite the whole installation (orphan cleanup, repair, reclaim, task purge) left
out. Only ``not_a_server_error`` is checked: 4xx answers to nonsense are what we want. The
``?pk_path`` variant of the document is fuzzed: it has concrete routes (``.../{pulp_id}/``) where
the default one has ``{..._href}`` templates that schemathesis cannot fill.
"""

import os
import subprocess

import pytest

from tests.stack import BIN, Stack

EXCLUDED = (
    "orphans_delete",
    "orphans_cleanup_cleanup",
    "repair_post",
    "repositories_reclaim_space_reclaim",
    "tasks_purge",
)
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", "50"))  # with setup, the test stays under 2 min
SEED = os.environ.get("FUZZ_SEED", "2049")


@pytest.fixture(scope="module")
def fuzz_stack():
    stack = Stack("fuzz").setup()
    stack.start_api(workers=2)
    yield stack
    stack.stop_all()
    stack.drop_database()


def test_no_operation_answers_5xx(fuzz_stack, tmp_path):
    stack = fuzz_stack
    argv = [
        str(BIN / "schemathesis"),
        "run",
        stack.url("docs/api.json?pk_path=1"),
        "--checks",
        "not_a_server_error",
        "--phases",
        os.environ.get("FUZZ_PHASES", "coverage,fuzzing"),
        "--max-examples",
        "3",
        "--max-time",
        str(MAX_TIME),
        "--seed",
        SEED,
        "--workers",
        "2",
        "--no-shrink",
        "--request-timeout",
        "20",
        "--auth",
        f"admin:{stack.admin_password}",
        "--warnings",
        "off",
        "--report",
        "ndjson",
        "--report-dir",
        str(tmp_path),
    ]
    for op in EXCLUDED:
        argv += ["--exclude-operation-id", op]
    env = {**stack.env, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    res = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=MAX_TIME + 120, cwd=tmp_path
    )
    output = res.stdout + res.stderr
    assert res.returncode == 0, output[-12000:] + "\n-- api log --\n" + stack.log("api")[-6000:]
    assert "No issues found" in output and " passed" in output, output[-4000:]
