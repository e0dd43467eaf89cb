"""A real Pulp stack for functional tests: its own database, real processes on free ports.

Tests drive it over HTTP (``stack.api``) and through the real ``pulp`` CLI (``stack.pulp(...)``).
Processes can be killed and restarted to test recovery.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import psycopg2
import requests

from tests import testenv

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; raise TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}" + (f": {last_exc}" if last_exc else ""))


class Stack:
    """Processes of one Pulp installation sharing a database, Redis DB and MEDIA_ROOT."""

    def __init__(self, name: str, extra_env: dict | None = None):
        self.name = f"{testenv.PREFIX}_{name}"
        self.root = Path(testenv.ROOT) / name
        self.db_name = self.name
        self.admin_password = secrets.token_urlsafe(12)
        self.api_port = free_port()
        self.content_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.content_origin = f"http://127.0.0.1:{self.content_port}"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logdir = self.root / "logs"
        env = dict(os.environ)
        env.update(
            {
                "PULP_DATABASES__default__NAME": self.db_name,
                "PULP_MEDIA_ROOT": str(self.root / "media") + "/",
                "PULP_STATIC_ROOT": str(self.root / "assets") + "/",
                "PULP_WORKING_DIRECTORY": str(self.root / "tmp") + "/",
                "PULP_CONTENT_ORIGIN": self.content_origin,
                "PULP_WORKER_TTL": "10",
                # pulp-cli caches the API document per base URL; a reused port must not see
                # another stack's document.
                "XDG_CACHE_HOME": str(self.root / "cli-cache"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra_env or {})
        self.env = env
        self.api = requests.Session()
        self.api.auth = ("admin", self.admin_password)

    # --- setup -----------------------------------------------------------------------------------
    def _pg(self):
        conn = psycopg2.connect(
            dbname="postgres",
            user=os.environ["PULP_DATABASES__default__USER"],
            host=os.environ["PULP_DATABASES__default__HOST"],
            port=os.environ["PULP_DATABASES__default__PORT"],
            password=os.environ.get("PULP_DATABASES__default__PASSWORD", ""),
        )
        conn.autocommit = True
        return conn

    def create_database(self) -> None:
        with closing(self._pg()) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (self.db_name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')
            cur.execute(f'CREATE DATABASE "{self.db_name}"')

    def drop_database(self) -> None:
        with closing(self._pg()) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (self.db_name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{self.db_name}"')

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "pulpcore-manager"), *args],
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
        )

    def setup(self) -> "Stack":
        for sub in ("media", "assets", "tmp", "logs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.create_database()
        self.manage("migrate", "--no-input", "-v0")
        self.manage("reset-admin-password", f"--password={self.admin_password}")
        return self

    # --- processes -------------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], wait=None, timeout: float = 30.0):
        """Start a process (argv[0] relative to the venv's bin/ if not absolute)."""
        if name in self.procs and self.procs[name].poll() is None:
            return self.procs[name]
        exe = argv[0] if os.path.isabs(argv[0]) else str(BIN / argv[0])
        log = open(self.logdir / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [exe, *argv[1:]],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        if wait is not None:
            try:
                wait_for(wait, timeout=timeout, what=f"{name} to start")
            except TimeoutError:
                raise RuntimeError(f"{name} did not start; log:\n{self.log(name)[-4000:]}")
        return proc

    def log(self, name: str) -> str:
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start_api(self, workers: int = 2):
        return self.start(
            "api",
            [
                "gunicorn",
                "pulpcore.app.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.api_port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "-",
            ],
            wait=lambda: requests.get(self.url("status/"), timeout=2).status_code == 200,
        )

    def start_content(self, workers: int = 1, gunicorn: bool = False):
        """Start ``pulp-content`` (or gunicorn with the aiohttp worker) on ``content_port``."""
        bind = f"127.0.0.1:{self.content_port}"
        if gunicorn:
            argv = [
                "gunicorn",
                "pulpcore.content:server",
                "--worker-class",
                "aiohttp.GunicornUVLoopWebWorker",
                "--bind",
                bind,
                "--workers",
                str(workers),
            ]
        else:
            argv = ["pulp-content", "--bind", bind, "--workers", str(workers)]
        return self.start(
            "content",
            argv,
            wait=lambda: requests.get(self.content_origin + "/pulp/content/", timeout=2).ok,
        )

    def online_workers(self) -> list[str]:
        """Names of task workers with a fresh heartbeat (read straight from the database)."""
        with closing(self._db()) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT name FROM core_worker WHERE NOT resource_manager AND NOT gracefully_stopped"
                " AND last_heartbeat > now() - interval '10 seconds'"
            )
            return [row[0] for row in cur.fetchall()]

    def _db(self):
        conn = psycopg2.connect(
            dbname=self.db_name,
            user=os.environ["PULP_DATABASES__default__USER"],
            host=os.environ["PULP_DATABASES__default__HOST"],
            port=os.environ["PULP_DATABASES__default__PORT"],
        )
        conn.autocommit = True
        return conn

    def start_worker(self, name: str, timeout: float = 30.0):
        """Start ``pulpcore-worker`` and wait until it registered and heartbeats."""
        proc = self.start(
            name,
            ["pulpcore-worker"],
            wait=lambda: any(
                w.startswith(f"{self.procs[name].pid}@") for w in self.online_workers()
            ),
            timeout=timeout,
        )
        return proc

    def start_resource_manager(self, name: str = "resource-manager", wait: bool = True):
        """Start ``pulpcore-worker --resource-manager``; wait until it is the active one (rq)."""

        offset = len(self.log(name))  # log files are appended to: look at this run only

        def active() -> bool:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.procs[name].returncode}")
            text = self.log(name)[offset:]
            if self.env.get("PULP_USE_NEW_WORKER_STYLE", "").lower() in ("true", "1", "yes"):
                return "idling" in text
            return "is now the active resource-manager" in text

        return self.start(
            name, ["pulpcore-worker", "--resource-manager"], wait=active if wait else None
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=30)

    def stop(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    # --- clients ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("/"):
            return self.base_url + path
        return f"{self.base_url}/pulp/api/v3/{path}"

    def get(self, path: str, **kw) -> requests.Response:
        return self.api.get(self.url(path), timeout=30, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.api.post(self.url(path), timeout=60, **kw)

    def pulp(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        """Run the real pulp CLI against this stack."""
        cmd = [
            str(BIN / "pulp"),
            "--base-url",
            self.base_url,
            "--username",
            "admin",
            "--password",
            self.admin_password,
            *args,
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.env)
        if check and res.returncode != 0:
            raise AssertionError(
                f"pulp {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
            )
        return res

    def wait_task(self, task_href: str, timeout: float = 120.0) -> dict:
        """Poll a task until it reaches a final state; return its JSON."""
        final = {"completed", "failed", "canceled", "skipped"}
        return wait_for(
            lambda: (t := self.get(task_href).json()) and t.get("state") in final and t,
            timeout=timeout,
            what=f"task {task_href}",
        )
