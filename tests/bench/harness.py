"""Shared benchmark harness: the stack users run (``make start``), nginx in front, wrk, --compare.

Every ``tests/bench/bench_*.py`` measures through this module so that a figure is about what users
run, not a test-only configuration:

* :class:`Stack` starts a stack exactly as ``make start`` does (``scripts/stack.py start`` with its
  own run dir, ports, database and Redis DB; the same gunicorn, content app and workers), and an
  nginx of its own (a plain process, never the system service) running the project's
  ``nginx/pulp.conf.j2`` rendered as ``roles/pulp_webserver`` renders it (TLS with a generated
  certificate), plus a "direct" server on the same nginx that serves MEDIA_ROOT itself: the ceiling
  for serving figures. ``Stack(..., ref="HEAD~1")`` does the same for another commit, built in a
  temporary git worktree with its own venv (kept under ``/tmp/pulp-bench-ref/<sha>`` for reuse).
* :func:`wrk` runs wrk and parses requests/s, latency percentiles and transfer rate.
* :func:`run` is a bench's ``main``: it parses the common options (``--compare REF``, ports,
  Redis DBs, ``--rounds``), starts this checkout's stack (and REF's), calls the bench's ``setup``
  once per stack and ``measure`` once per round, alternating stacks, and prints
  ``figure  this  [ceiling ratio]  [REF ratio]``.

A minimal bench::

    from tests.bench.harness import Figure, run, wrk

    def setup(stack, args):
        return None

    def measure(stack, ctx, args):
        r = wrk(stack.api_url + "status/", seconds=args.seconds, connections=10)
        return [Figure("status/ 10 conns", r.rps, "req/s")]

    if __name__ == "__main__":
        run("status", setup, measure)

Setup goes through the REST API (:func:`file_repository`, :func:`synced_repository`,
:func:`publish_and_distribute`, ``Stack.run_task``), never through this checkout's models, so the
same bench runs against REF's stack. :class:`StaticServer` is an nginx origin for sync fixtures.
``make bench`` runs every bench (``BENCHES=...`` picks some) with the variables below passed
through, e.g. ``make bench PULP_BENCH_COMPARE=cb73742 PULP_BENCH_REF_REDIS_DB=12``.

Options every bench takes (or their environment variables, which ``make bench`` passes through):
``--compare REF`` (``PULP_BENCH_COMPARE``), ``--ports BASE`` (``PULP_BENCH_PORTS``: API BASE,
content BASE+1, nginx BASE+8/BASE+9/BASE+7 for http/https/direct; REF's stack BASE+5, BASE+6 and
nginx on free ports; default: free ports), ``--redis-db N`` (``PULP_BENCH_REDIS_DB``, default
``PULP_TEST_REDIS_DB``), ``--ref-redis-db N`` (``PULP_BENCH_REF_REDIS_DB``; required with
--compare), ``--rounds N`` and ``--seconds S``. Database names are
``<PULP_TEST_PREFIX>_bench_<name>`` (``..._ref`` for REF's), dropped at the end with their role.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import urllib3

# nginx's certificate is generated per run; benches talk to it knowingly unverified.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import pgadmin  # noqa: E402

REF_CACHE = Path(os.environ.get("PULP_BENCH_REF_CACHE", "/tmp/pulp-bench-ref"))
API_PREFIX = "/pulp/api/v3/"
CONTENT_PREFIX = "/pulp/content/"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float, what: str, verify: bool = True) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2, verify=verify)
            return
        except requests.RequestException as exc:
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s: {last}")


# --- building another commit ----------------------------------------------------------------------


def build_ref(ref: str) -> Path:
    """A checkout of ``ref`` with its own venv (``pip install -e .``); reused when already built."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = REF_CACHE / sha
    ready = path / ".bench-ready"
    if ready.exists():
        return path
    REF_CACHE.mkdir(parents=True, exist_ok=True)
    if path.exists():  # a build that was interrupted: start over
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)])
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=True)
    print(f"harness: building {ref} ({sha[:10]}) in {path}", flush=True)
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), sha],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run([sys.executable, "-m", "venv", str(path / ".venv")], check=True)
    subprocess.run(
        [str(path / ".venv/bin/pip"), "install", "--quiet", "-e", str(path)],
        check=True,
    )
    ready.write_text(sha + "\n")
    return path


# --- nginx ----------------------------------------------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key, as the role generates when given none."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert_path, key_path = directory / "pulp_webserver.crt", directory / "pulp_webserver.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def render_site(template_dir: Path, variables: dict[str, Any]) -> str:
    """Render ``pulp.conf.j2`` with the Ansible filters and tests it uses, as the role does."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["regex_replace"] = lambda value, pattern, repl="": re.sub(pattern, repl, value)
    env.tests["search"] = lambda value, pattern: re.search(pattern, value) is not None
    env.tests["match"] = lambda value, pattern: re.match(pattern, value) is not None
    return env.get_template("pulp.conf.j2").render(**variables)


class Nginx:
    """nginx as a plain process with its own prefix: the project's site plus a direct server."""

    def __init__(
        self,
        checkout: Path,
        directory: Path,
        api_bind: str,
        content_bind: str,
        media_root: str,
        static_root: str,
        ports: tuple[int, int, int],
        workers: int = 2,
        site_vars: dict[str, Any] | None = None,
        direct_http_port: int | None = None,
    ):
        self.dir = directory
        self.http_port, self.https_port, self.direct_port = ports
        # The same ceiling without TLS, beside figures measured on plain HTTP (the content app).
        self.direct_http_port = direct_http_port or free_port()
        self.workers = workers
        self.checkout = checkout
        self.proc: subprocess.Popen | None = None
        cert, key = _self_signed(directory)
        self.variables: dict[str, Any] = {
            "pulp_webserver_http_port": self.http_port,
            "pulp_webserver_https_port": self.https_port,
            "pulp_webserver_server_names": ["_"],
            "pulp_webserver_client_max_body_size": "1024m",
            "pulp_webserver_proxy_read_timeout": "300s",
            "pulp_webserver_api_servers": [api_bind],
            "pulp_webserver_content_servers": [content_bind],
            "pulp_content_path_prefix": CONTENT_PREFIX,
            "pulp_api_root": "/pulp/",
            "pulp_static_url": "/assets/",
            "pulp_static_root": static_root,
            "pulp_media_root": media_root,
            "pulp_webserver_tls_cert_path": str(cert),
            "pulp_webserver_tls_key_path": str(key),
            "pulp_webserver_client_cert_verify": "off",
            "pulp_webserver_client_cert_verify_depth": 2,
            "pulp_webserver_client_ca_cert_path": "",
            "pulp_webserver_content_guard_headers": [],
            "pulp_content_x_accel_redirect": "",
        }
        self.variables.update(site_vars or {})
        self.media_root = media_root

    def config(self) -> str:
        """The whole nginx.conf: Debian's http defaults, the rendered site, the direct server."""
        site = render_site(self.checkout / "nginx", self.variables)
        # The role's site listens on every address; a bench's listens on loopback only.
        site = site.replace(
            f"listen {self.http_port} default_server;", f"listen 127.0.0.1:{self.http_port};"
        ).replace(
            f"listen {self.https_port} ssl default_server;",
            f"listen 127.0.0.1:{self.https_port} ssl;",
        )
        cert = self.variables["pulp_webserver_tls_cert_path"]
        key = self.variables["pulp_webserver_tls_key_path"]
        return nginx_conf(
            self.dir,
            self.workers,
            f"""
{site}
    # The ceiling for serving figures: this nginx sending MEDIA_ROOT's files itself, same TLS.
    server {{
        listen 127.0.0.1:{self.direct_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {self.media_root};
    }}
    # ... and on plain HTTP, the ceiling beside the content app measured alone.
    server {{
        listen 127.0.0.1:{self.direct_http_port};
        root {self.media_root};
    }}
""",
        )

    def start(self) -> Nginx:
        self.proc = _start_nginx(
            self.dir, self.config(), f"http://127.0.0.1:{self.direct_http_port}/"
        )
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


def nginx_conf(directory: Path, workers: int, servers: str) -> str:
    """nginx.conf with Debian's http defaults (sendfile, keep-alive) and ``servers`` inside."""
    d = directory
    return f"""
worker_processes {workers};
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{servers}
}}
"""


def _start_nginx(directory: Path, config: str, probe: str) -> subprocess.Popen:
    """nginx as a plain process (its own session) on ``config``; returns once ``probe`` answers."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    conf.write_text(config)
    log = open(directory / "nginx.out", "ab")
    proc = subprocess.Popen(
        ["nginx", "-p", str(directory), "-c", str(conf)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_http(probe, 15, "nginx", verify=False)
    except RuntimeError:
        err = directory / "error.log"
        _stop(proc)
        raise RuntimeError(f"nginx did not start: {err.read_text() if err.exists() else ''}")
    return proc


def _stop(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


class StaticServer:
    """nginx serving a directory on a free loopback port: the origin of sync benchmarks."""

    def __init__(self, root: Path, workers: int = 1):
        self.root, self.workers = root, workers
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pulp-bench-origin-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> StaticServer:
        self.root.chmod(self.root.stat().st_mode | 0o055)  # nginx's workers run as nobody
        server = f"    server {{ listen 127.0.0.1:{self.port}; root {self.root}; }}"
        self.proc = _start_nginx(self.dir, nginx_conf(self.dir, self.workers, server), self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        _stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the stack ------------------------------------------------------------------------------------


def _stack_env(base: dict[str, str]) -> dict[str, str]:
    """The caller's environment minus every PULP_* setting override: a bench process may carry
    test settings, and the stack must run on its settings.yaml alone, as ``make start`` does."""
    return {
        k: v for k, v in base.items() if not k.startswith("PULP_") or k.startswith("PULP_STACK")
    }


class Stack:
    """A ``make start`` stack of this checkout (or of ``ref``) with nginx in front.

    Use as a context manager; everything it starts is stopped and its database dropped on exit
    (``keep=True`` keeps the run dir and database for a look afterwards).
    """

    def __init__(
        self,
        name: str,
        api_port: int | None = None,
        content_port: int | None = None,
        redis_db: int | None = None,
        ref: str | None = None,
        *,
        nginx_ports: tuple[int, int, int] | None = None,
        env: dict[str, str] | None = None,
        nginx: bool = True,
        site_vars: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        keep: bool = False,
    ):
        prefix = os.environ.get("PULP_TEST_PREFIX", "bench")
        self.name = name
        self.ref = ref
        self.label = ref or "this"
        self.db_name = f"{prefix}_bench_{name}" + ("_ref" if ref else "")
        self.api_port = api_port or free_port()
        self.content_port = content_port or free_port()
        if redis_db is None:
            redis_db = int(os.environ.get("PULP_TEST_REDIS_DB", "0"))
        self.redis_db = redis_db
        self.nginx_ports = nginx_ports or (free_port(), free_port(), free_port())
        self.extra_env = env or {}
        self.with_nginx = nginx
        self.site_vars = site_vars or {}
        self.extra_settings = settings or {}
        self.keep = keep
        self.run_dir = Path(tempfile.gettempdir()) / f"pulp-bench-{self.db_name}"
        self.checkout = ROOT
        self.nginx: Nginx | None = None
        self.admin_password = ""
        self.session = requests.Session()

    # URLs and credentials
    @property
    def api_url(self) -> str:
        """The API root straight at gunicorn: ``http://127.0.0.1:<api>/pulp/api/v3/``."""
        return f"http://127.0.0.1:{self.api_port}{API_PREFIX}"

    @property
    def base_url(self) -> str:
        """What ``pulp --base-url`` takes (gunicorn directly)."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def content_url(self) -> str:
        """The content app directly: ``http://127.0.0.1:<content>/pulp/content/``."""
        return f"http://127.0.0.1:{self.content_port}{CONTENT_PREFIX}"

    @property
    def nginx_url(self) -> str:
        """nginx's HTTPS server (the production path): append ``pulp/api/v3/...`` or
        ``pulp/content/...``. Self-signed: clients need ``verify=False`` / wrk does not check."""
        return f"https://127.0.0.1:{self.nginx_ports[1]}/"

    @property
    def nginx_direct_url(self) -> str:
        """nginx serving MEDIA_ROOT itself: append an artifact's ``file.name``."""
        return f"https://127.0.0.1:{self.nginx_ports[2]}/"

    @property
    def nginx_direct_http_url(self) -> str:
        """The same direct server on plain HTTP (beside the content app, which has no TLS)."""
        assert self.nginx, "stack started without nginx"
        return f"http://127.0.0.1:{self.nginx.direct_http_port}/"

    @property
    def admin_auth(self) -> tuple[str, str]:
        return ("admin", self.admin_password)

    @property
    def basic_auth_header(self) -> dict[str, str]:
        """``{"Authorization": "Basic ..."}`` for admin, for wrk."""
        token = base64.b64encode(f"admin:{self.admin_password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    @property
    def settings_path(self) -> Path:
        return self.run_dir / "settings.yaml"

    @property
    def media_root(self) -> str:
        return str(self.run_dir / "var" / "media") + "/"

    @property
    def python(self) -> Path:
        """The interpreter of the checkout under test (this one's venv, or REF's)."""
        return self.checkout / ".venv" / "bin" / "python" if self.ref else Path(sys.executable)

    def pids(self) -> dict[str, int]:
        """Process ids of the stack's services by name (api, content, worker-1, ...)."""
        out = {}
        for f in (self.run_dir / "pids").glob("*.pid"):
            out[f.stem] = int(f.read_text().strip())
        return out

    # lifecycle
    def _stack_py(
        self, *args: str, check: bool = True, checkout: Path | None = None
    ) -> subprocess.CompletedProcess:
        """``scripts/stack.py ARGS --run-dir RUN`` of the checkout under test (or ``checkout``),
        with this stack's ports, database name and Redis DB, as ``make start`` is given them."""
        checkout = checkout or self.checkout
        python = self.python if checkout == self.checkout else Path(sys.executable)
        env = _stack_env(dict(os.environ))
        env.update(
            {
                "PULP_API_BIND": f"127.0.0.1:{self.api_port}",
                "PULP_CONTENT_BIND": f"127.0.0.1:{self.content_port}",
                "PULP_STACK_DB_NAME": self.db_name,
                "PULP_STACK_REDIS_DB": str(self.redis_db),
            }
        )
        env.update(self.extra_env)
        return subprocess.run(
            [str(python), str(checkout / "scripts/stack.py"), args[0]]
            + ["--run-dir", str(self.run_dir), *args[1:]],
            env=env,
            cwd=str(checkout),
            check=check,
            capture_output=True,
            text=True,
        )

    def _write_settings(self) -> None:
        """settings.yaml as the checkout's own stack.py writes it (one that predates
        PULP_STACK_DB_NAME gets this checkout's, so it never touches the default database)."""
        import yaml

        # An older stack.py may have no ``shell`` command: this checkout's then writes the file.
        self._stack_py("shell", "--", "true", check=False)
        ok = self.settings_path.exists() and (
            yaml.safe_load(self.settings_path.read_text())["DATABASES"]["default"]["NAME"]
            == self.db_name
        )
        if not ok:
            self.settings_path.unlink(missing_ok=True)
            self._stack_py("shell", "--", "true", checkout=ROOT)
        if self.extra_settings:
            with self.settings_path.open("a") as fh:
                for key, value in self.extra_settings.items():
                    fh.write(f"{key}: {json.dumps(value)}\n")

    def _flush_redis(self) -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=self.redis_db).flushdb()

    def start(self) -> Stack:
        if self.ref:
            self.checkout = build_ref(self.ref)
        self._drop()
        self._flush_redis()
        self.run_dir.mkdir(parents=True)
        self._write_settings()
        res = self._stack_py("start", check=False)
        if res.returncode != 0:
            logs = self.run_dir / "logs" / "api.log"
            tail = logs.read_text()[-3000:] if logs.exists() else ""
            self.stop()
            raise RuntimeError(f"stack {self.label} did not start:\n{res.stdout}{res.stderr}{tail}")
        self.admin_password = (self.run_dir / "admin-password").read_text().strip()
        self.session.auth = self.admin_auth
        _wait_http(self.api_url + "status/", 60, f"API of {self.label}")
        self.wait_ready()
        if self.with_nginx:
            ndir = self.run_dir / "nginx"
            ndir.mkdir()
            self.nginx = Nginx(
                self.checkout,
                ndir,
                f"127.0.0.1:{self.api_port}",
                f"127.0.0.1:{self.content_port}",
                self.media_root,
                str(self.run_dir / "var" / "assets"),
                self.nginx_ports,
                site_vars=self.site_vars,
            ).start()
        return self

    def wait_ready(self, timeout: float = 180) -> None:
        """Until status/ lists the content app and every worker of the stack."""
        workers = sum(1 for n in self.pids() if n.startswith("worker-"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.session.get(self.api_url + "status/", timeout=10).json()
            if len(st.get("online_workers", [])) >= workers and st.get("online_content_apps"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"stack {self.label}: workers/content app not online after {timeout} s")

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
            self.nginx = None
        if (self.run_dir / "pids").exists():
            self._stack_py("stop", check=False)
        if not self.keep:
            self._drop()

    def _drop(self) -> None:
        """Drop this bench's database and role and remove its run dir (never anything else)."""
        pgadmin.run_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self.db_name}' AND pid <> pg_backend_pid()"
        )
        pgadmin.run_sql(f'DROP DATABASE IF EXISTS "{self.db_name}"')
        pgadmin.run_sql(f'DROP ROLE IF EXISTS "{self.db_name}"')
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # talking to it
    def get(self, path: str, **kw: Any) -> requests.Response:
        """GET ``path`` (relative to the API root, or an href / absolute URL) as admin."""
        return self.session.get(self._url(path), timeout=kw.pop("timeout", 60), **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.session.post(self._url(path), timeout=kw.pop("timeout", 120), **kw)

    def create(self, path: str, **kw: Any) -> dict:
        """POST ``path`` and return the created object (raise with the body on an error)."""
        r = self.post(path, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:500]}")
        return r.json()

    def run_task(self, path: str, timeout: float = 600, **kw: Any) -> tuple[dict, float]:
        """POST ``path`` (an endpoint answering 202 with a task), wait for it; returns the task
        and its seconds from just before the POST to its ``finished_at`` (one machine, one
        clock: the time a user waits, without the client's polling interval)."""
        started = time.time()
        task = self.wait_task(self.create(path, **kw)["task"], timeout=timeout)
        finished = datetime.datetime.fromisoformat(task["finished_at"].replace("Z", "+00:00"))
        return task, finished.timestamp() - started

    def wait_group(self, href: str, timeout: float = 600) -> dict:
        """Poll a task group until every task of it ended; raise if one did not complete."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            group = self.get(href).json()
            busy = group["waiting"] + group["running"] + group.get("canceling", 0)
            if group["all_tasks_dispatched"] and not busy:
                if group["failed"] or group["canceled"]:
                    raise RuntimeError(f"task group {href}: {group}")
                return group
            time.sleep(0.05)
        raise TimeoutError(f"task group {href} still running after {timeout} s")

    def worker_peak_rss_mib(self) -> float:
        """The largest ``VmHWM`` (peak resident memory) among the stack's task workers."""
        peak = 0.0
        for name, pid in self.pids().items():
            if not name.startswith("worker"):
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            m = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            peak = max(peak, int(m.group(1)) / 1024 if m else 0.0)
        return peak

    def _url(self, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("/"):
            return self.base_url + path
        return self.api_url + path

    def wait_task(self, href: str, timeout: float = 600) -> dict:
        """Poll a task until it ends; raise with its error description if it did not complete."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = self.get(href).json()
            if task["state"] in ("completed", "failed", "canceled"):
                if task["state"] != "completed":
                    raise RuntimeError(f"task {href} {task['state']}: {task.get('error')}")
                return task
            time.sleep(0.02)
        raise TimeoutError(f"task {href} still running after {timeout} s")

    def pulp(self, *args: str, check: bool = True) -> Any:
        """Run the ``pulp`` CLI (this venv's) as admin against the stack; parsed JSON or text."""
        cli = Path(sys.executable).parent / "pulp"
        env = dict(os.environ, XDG_CACHE_HOME=str(self.run_dir / "cli-cache"))
        res = subprocess.run(
            [str(cli), "--base-url", self.base_url, "--username", "admin", "--password"]
            + [self.admin_password, "--format", "json", *args],
            capture_output=True,
            text=True,
            env=env,
        )
        if check and res.returncode != 0:
            raise RuntimeError(f"pulp {' '.join(args)} failed: {res.stderr or res.stdout}")
        try:
            return json.loads(res.stdout) if res.stdout.strip() else None
        except json.JSONDecodeError:
            return res.stdout

    def manage(self, *args: str) -> str:
        """``pulpcore-manager ARGS`` of the checkout under test, with the stack's settings."""
        res = self._stack_py("shell", "--", str(self.python.parent / "pulpcore-manager"), *args)
        return res.stdout

    def restart(self, **env: str) -> None:
        """Stop and start the stack's processes (same database), e.g. with other PULP_* env."""
        if self.nginx:
            self.nginx.stop()
        self._stack_py("stop", check=False)
        self.extra_env.update(env)
        res = self._stack_py("start", check=False)
        if res.returncode != 0:
            raise RuntimeError(f"stack {self.label} did not restart:\n{res.stdout}{res.stderr}")
        _wait_http(self.api_url + "status/", 60, f"API of {self.label}")
        self.wait_ready()
        if self.nginx:
            self.nginx.start()


# --- wrk ------------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    rps: float
    requests: int
    non_2xx: int
    errors: int
    p50_ms: float
    p99_ms: float
    mib_s: float
    output: str = field(repr=False, default="")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(
    url: str,
    seconds: float = 5,
    connections: int = 10,
    headers: dict[str, str] | None = None,
    threads: int = 2,
    check: bool = True,
) -> WrkResult:
    """Run wrk (keep-alive, ``threads`` threads) against ``url``; raise on non-2xx if ``check``."""
    if not shutil.which("wrk"):
        sys.exit("the benchmarks need wrk and nginx: apt-get install -y wrk nginx")
    args = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}"]
    args += [f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(
        args + [url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    mib = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", out)
    scale = {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}
    result = WrkResult(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        errors=sum(int(x) for x in errs.groups()) if errs else 0,
        p50_ms=_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        p99_ms=_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        mib_s=float(mib.group(1)) * scale[mib.group(2)] if mib else 0.0,
        output=out,
    )
    if check and (result.non_2xx or result.errors):
        raise RuntimeError(f"wrk {url}: {result.non_2xx} non-2xx, {result.errors} errors\n{out}")
    return result


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` sequential calls of ``fn``."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


# --- figures and the runner -----------------------------------------------------------------------

HIGHER_IS_BETTER = {"req/s", "MiB/s", "files/s", "units/s", "tasks/s", "x"}


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these processes and their direct children (gunicorn's and
    nginx's workers), from /proc: with a load generator on the same cores, CPU per request says
    what a figure costs even when requests/s is bounded by the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    seen: set[int] = set()
    for pid in pids:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for p in [pid, *map(int, children)]:
            if p in seen:
                continue
            seen.add(p)
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


@dataclass
class Figure:
    """One measured figure; ``ceiling`` is a reference measured in the same run (e.g. nginx
    serving the same file directly), printed beside it with the ratio."""

    name: str
    value: float
    unit: str
    ceiling: float | None = None
    ceiling_label: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.unit in HIGHER_IS_BETTER

    def better(self, other: Figure) -> Figure:
        if self.higher_is_better:
            return self if self.value >= other.value else other
        return self if self.value <= other.value else other


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.3g} {unit}" if abs(value) < 10 else f"{value:.0f} {unit}"


def print_table(title: str, this: list[Figure], ref: list[Figure] | None, ref_label: str) -> None:
    """``figure  this  [ceiling ratio]  [REF ratio]``; ratio = this / other for every unit."""
    ref_by_name = {f.name: f for f in ref or []}
    has_ceiling = any(f.ceiling is not None for f in this)
    width = max([len(f.name) for f in this] + [6])
    head = f"{'figure':<{width}}  {'this':>12}"
    if has_ceiling:
        head += f"  {'ceiling':>12}  {'ratio':>6}"
    if ref is not None:
        head += f"  {ref_label[:12]:>12}  {'ratio':>6}"
    print(f"\n== {title}  (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print(head)
    for f in this:
        line = f"{f.name:<{width}}  {_fmt(f.value, f.unit):>12}"
        if has_ceiling:
            ratio = f"{f.value / f.ceiling:.2f}" if f.ceiling else "-"
            label = f" ({f.ceiling_label})" if f.ceiling_label else ""
            line += f"  {_fmt(f.ceiling, f.unit):>12}  {ratio:>6}"
        else:
            label = ""
        if ref is not None:
            other = ref_by_name.get(f.name)
            ratio = f"{f.value / other.value:.2f}" if other and other.value else "-"
            line += f"  {_fmt(other.value if other else None, f.unit):>12}  {ratio:>6}"
        print(line + label, flush=True)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


def common_args(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The options every bench takes; add a bench's own to the returned parser."""
    parser = parser or argparse.ArgumentParser()
    parser.add_argument(
        "--compare",
        default=os.environ.get("PULP_BENCH_COMPARE") or None,
        metavar="REF",
        help="also measure the commit REF (built in a temp venv) in the same run",
    )
    parser.add_argument("--ports", type=int, default=_env_int("PULP_BENCH_PORTS"), metavar="BASE")
    parser.add_argument(
        "--redis-db", type=int, default=_env_int("PULP_BENCH_REDIS_DB"), metavar="N"
    )
    parser.add_argument(
        "--ref-redis-db", type=int, default=_env_int("PULP_BENCH_REF_REDIS_DB"), metavar="N"
    )
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("PULP_BENCH_ROUNDS", 2)))
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("PULP_BENCH_SECONDS", 5))
    )
    parser.add_argument("--keep", action="store_true", help="keep run dirs and databases")
    return parser


def stacks_for(name: str, args: argparse.Namespace, **kw: Any) -> list[Stack]:
    """This checkout's stack and, with --compare, REF's (ports and Redis DBs from ``args``)."""
    base = args.ports
    ours = Stack(
        name,
        base,
        base + 1 if base else None,
        args.redis_db,
        nginx_ports=(base + 8, base + 9, base + 7) if base else None,
        keep=args.keep,
        **kw,
    )
    out = [ours]
    if args.compare:
        if args.ref_redis_db is None or args.ref_redis_db == ours.redis_db:
            sys.exit("--compare needs --ref-redis-db N (or PULP_BENCH_REF_REDIS_DB), another DB")
        out.append(
            Stack(
                name,
                base + 5 if base else None,
                base + 6 if base else None,
                args.ref_redis_db,
                ref=args.compare,
                keep=args.keep,
                **kw,
            )
        )
    return out


_SHARED: dict[str, Any] = {}


def shared(key: str, factory: Callable[[], Any]) -> Any:
    """One object for every stack of the run (fixture trees, origins), made on first use; ``run``
    calls its ``close()`` at the end, so the two stacks of a --compare run sync the same bytes."""
    if key not in _SHARED:
        _SHARED[key] = factory()
    return _SHARED[key]


def run(
    name: str,
    setup: Callable[[Stack, argparse.Namespace], Any],
    measure: Callable[[Stack, Any, argparse.Namespace], list[Figure]],
    *,
    parser: argparse.ArgumentParser | None = None,
    title: str | None = None,
    argv: Sequence[str] | None = None,
    teardown: Callable[[Any], None] | None = None,
    **stack_kw: Any,
) -> tuple[list[Figure], list[Figure] | None]:
    """A bench's ``main``: start the stack(s), ``setup`` each once, ``measure`` each once per
    round (alternating, so both see the same machine load), keep each figure's best, print.
    ``teardown(context)`` runs for every set-up context at the end (origins, temp dirs)."""
    args = common_args(parser).parse_args(argv)
    stacks = stacks_for(name, args, **stack_kw)
    contexts: list[Any] = []
    best: list[dict[str, Figure]] = [{} for _ in stacks]
    order: list[str] = []
    started: list[Stack] = []

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        for stack in stacks:
            started.append(stack.__enter__())
            try:
                contexts.append(setup(stack, args))
            except (RuntimeError, KeyError, requests.RequestException) as exc:
                if not stack.ref:
                    raise
                # A REF that predates what the bench measures (an endpoint it lacks): this
                # checkout's figures still print, REF's column says why it is empty.
                print(f"harness: {stack.ref} cannot run {name}: {exc}"[:600], flush=True)
                stacks = stacks[:1]
        for _ in range(max(1, args.rounds)):
            for i, stack in enumerate(stacks):
                for fig in measure(stack, contexts[i], args):
                    if fig.name not in order:
                        order.append(fig.name)
                    prev = best[i].get(fig.name)
                    best[i][fig.name] = fig.better(prev) if prev else fig
    finally:
        for ctx in contexts:
            if teardown:
                teardown(ctx)
        for stack in started:
            stack.__exit__(None, None, None)
        while _SHARED:
            _SHARED.popitem()[1].close()
    this = [best[0][n] for n in order if n in best[0]]
    ref = [best[1][n] for n in order if n in best[1]] if args.compare else None
    rounds = f"best of {args.rounds} round(s)" if args.rounds > 1 else "1 round"
    print_table(title or f"{name} ({rounds})", this, ref, args.compare or "")
    return this, ref


# --- setup through the REST API (works on any commit's stack) -------------------------------------


def file_repository(stack: Stack, name: str, files: dict[str, bytes] | None = None) -> dict:
    """A file repository holding ``files`` (relative path -> bytes), uploaded through the API."""
    repo = stack.create("repositories/file/file/", json={"name": name})
    for rel, data in (files or {}).items():
        stack.run_task(
            "content/file/files/",
            data={"relative_path": rel, "repository": repo["pulp_href"]},
            files={"file": (rel, data)},
        )
    return stack.get(repo["pulp_href"]).json()


def synced_repository(
    stack: Stack, name: str, manifest_url: str, policy: str = "immediate"
) -> tuple[dict, dict, float]:
    """A repository and remote for ``manifest_url``, synced once: (repo, remote, seconds)."""
    repo = stack.create("repositories/file/file/", json={"name": name})
    remote = stack.create(
        "remotes/file/file/", json={"name": name, "url": manifest_url, "policy": policy}
    )
    _, took = sync(stack, repo, remote)
    return repo, remote, took


def sync(stack: Stack, repo: dict, remote: dict, **body: Any) -> tuple[dict, float]:
    return stack.run_task(f"{repo['pulp_href']}sync/", json={"remote": remote["pulp_href"], **body})


def publish_and_distribute(stack: Stack, repo: dict, base_path: str, **extra: Any) -> dict:
    """Publish the repository's latest version and distribute it at ``base_path``."""
    task, _ = stack.run_task("publications/file/file/", json={"repository": repo["pulp_href"]})
    publication = task["created_resources"][0]
    return distribute(stack, base_path, publication=publication, **extra)


def distribute(stack: Stack, base_path: str, **target: Any) -> dict:
    """A file distribution at ``base_path`` of ``target`` (publication=/repository=, guard...)."""
    task, _ = stack.run_task(
        "distributions/file/file/", json={"name": base_path, "base_path": base_path, **target}
    )
    return stack.get(task["created_resources"][0]).json()


def artifact_name(stack: Stack, data: bytes) -> str:
    """MEDIA_ROOT-relative file name of the stored artifact with ``data``'s sha256."""
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    found = stack.get(f"artifacts/?sha256={sha}").json()["results"]
    if not found:
        raise RuntimeError(f"no artifact with sha256 {sha}")
    name = found[0]["file"]
    return name.split(stack.media_root, 1)[-1].lstrip("/")


def median(values: Sequence[float]) -> float:
    import statistics

    return statistics.median(values)
