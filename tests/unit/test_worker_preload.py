"""Workers import plugin task modules at start, so the first sync does not pay for imports."""

import subprocess
import sys


def test_preload_imports_every_apps_task_modules():
    code = (
        "import django, sys; django.setup();"
        "from pulpcore.tasking.worker import _preload_task_modules;"
        "assert 'pulp_file.app.tasks.synchronizing' not in sys.modules;"
        "_preload_task_modules();"
        "print(sorted(m for m in sys.modules if m.endswith('synchronizing')))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "pulp_file.app.tasks.synchronizing" in res.stdout
