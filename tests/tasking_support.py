"""Task bodies for tasking tests, imported by real workers (the test stacks put the repository on
PYTHONPATH). They leave evidence on disk so tests can prove ordering, exclusion and cancellation.
"""

import json
import os
import time


def record(directory: str, label: str, seconds: float = 0.0) -> None:
    """Write this task's [start, end] wall-clock interval to ``directory/label.json``."""
    start = time.time()
    if seconds:
        time.sleep(seconds)
    end = time.time()
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{label}.tmp")
    with open(tmp, "w") as fp:
        json.dump({"label": label, "start": start, "end": end, "pid": os.getpid()}, fp)
    os.replace(tmp, os.path.join(directory, f"{label}.json"))


def tick(path: str, seconds: float) -> None:
    """Touch ``path`` every 0.1 s for ``seconds``: a canceled task visibly stops touching it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with open(path, "w") as fp:
            fp.write(str(time.time()))
        time.sleep(0.1)


def noop() -> None:
    """The cheapest possible task (benchmarks)."""


def fail_with(message: str) -> None:
    raise RuntimeError(message)


def raise_bare(exception_path: str) -> None:
    """Raise an exception class without a message (as Django's EmptyResultSet is raised)."""
    from django.utils.module_loading import import_string

    raise import_string(exception_path)()
