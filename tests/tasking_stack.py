"""A test stack for tasking: workers that can import ``tests.tasking_support``, and a way to
dispatch tasks through the real ``pulpcore.tasking.dispatch`` in the stack's database."""

import json
import textwrap
from contextlib import closing
from pathlib import Path

from tests.stack import Stack, wait_for

REPO = str(Path(__file__).resolve().parents[1])


class TaskingStack(Stack):
    """A stack with the API, tasking processes and helpers to dispatch test tasks."""

    def __init__(self, system: str, extra_env: dict | None = None, name: str | None = None):
        env = {"PULP_USE_NEW_WORKER_STYLE": str(system == "postgres")}
        env.update(extra_env or {})
        super().__init__(name or f"tasking_{system}", env)
        # Workers import tests.tasking_support; only the tests package goes on their path (the
        # whole repository would shadow pulp-cli's pulpcore.cli namespace).
        pythonpath = self.root / "pythonpath"
        pythonpath.mkdir(parents=True, exist_ok=True)
        if not (pythonpath / "tests").exists():
            (pythonpath / "tests").symlink_to(Path(REPO) / "tests")
        self.env["PYTHONPATH"] = str(pythonpath)
        self.system = system
        self.evidence = self.root / "evidence"

    def start_tasking(self, workers: int = 2) -> None:
        self.start_resource_manager("rm-1")
        for index in range(1, workers + 1):
            self.start_worker(f"w-{index}")

    def dispatch(self, specs: list[dict]) -> list[str]:
        """Dispatch tasks through pulpcore.tasking.dispatch in a pulpcore-manager process."""
        code = textwrap.dedent(
            f"""
            import json
            from pulpcore.tasking.dispatch import dispatch
            ids = [str(dispatch(**spec).pk) for spec in json.loads({json.dumps(json.dumps(specs))})]
            print("IDS=" + json.dumps(ids))
            """
        )
        res = self.manage("shell", "-c", code)
        line = next(x for x in res.stdout.splitlines() if x.startswith("IDS="))
        return [f"/pulp/api/v3/tasks/{i}/" for i in json.loads(line[4:])]

    def task(self, href: str) -> dict:
        r = self.get(href)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_state(self, href: str, states: set[str], timeout: float = 30) -> dict:
        return wait_for(
            lambda: (t := self.task(href))["state"] in states and t,
            timeout=timeout,
            what=f"{href} to reach {states}",
        )

    def proc_of_worker(self, worker_href: str) -> str:
        name = self.get(worker_href).json()["name"]
        pid = int(name.split("@")[0])
        return next(n for n, p in self.procs.items() if p.pid == pid and p.poll() is None)

    def sql(self, query: str, params=()) -> list:
        with closing(self._db()) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
