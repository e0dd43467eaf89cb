"""A clone stands alone: nothing the tests read lies outside the repository."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Where code that runs in `make test` or CI lives (molecule/*/ '../shared' is molecule/shared).
CHECKED = ["tests", "scripts", ".ci", "Makefile", "pyproject.toml", "pulpcore", "pulp_file"]
OUTSIDE = re.compile(r"\.\./shared|parents?\b[^\n]*[\"']shared[\"']|/work/shared")
# The one deliberate use: `make contract-refresh` copies a newer contract in (not run by tests).
ALLOWED = {"Makefile": "CONTRACT_SOURCE ?= ../shared/api-contract"}


def _tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", *CHECKED],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line and (REPO / line).is_file()]


def test_no_code_reads_beside_the_clone():
    offenders = []
    for name in _tracked_files():
        if name.endswith((".md", ".json")) or name == "tests/contract/test_standalone.py":
            continue
        text = (REPO / name).read_text(errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if ALLOWED.get(name) == line.strip():
                continue
            if OUTSIDE.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "files that read outside the clone:\n" + "\n".join(offenders)


def test_contract_loads_in_a_copy_with_nothing_beside_it(tmp_path):
    """Copy tests/ alone into an empty directory and load the contract from there."""
    clone = tmp_path / "lonely" / "repo"
    shutil.copytree(REPO / "tests", clone / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "from tests.contract import contract as c\n"
        "assert c.CONTRACT_PATH.is_relative_to(c.REPO), c.CONTRACT_PATH\n"
        "assert len(c.operations(c.contract())) == 253\n"
        "assert len(c.operations_md_routes()) == 253\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=clone, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
