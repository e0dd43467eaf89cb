"""Run SQL as a PostgreSQL superuser, whichever way this machine allows it.

Tried in order: TCP as ``postgres`` without a password (trust auth), then the local socket as the
``postgres`` OS user (peer auth; needs root or passwordless sudo).
"""

import os
import shutil
import subprocess

HOST = os.environ.get("PULP_PGHOST", "127.0.0.1")
PORT = os.environ.get("PULP_PGPORT", "5432")


def _candidates(sql: str, db: str) -> list[list[str]]:
    base = ["psql", "-w", "-v", "ON_ERROR_STOP=1", "-tAq", "-d", db, "-c", sql]
    cmds = [[*base[:1], "-h", HOST, "-p", PORT, "-U", "postgres", *base[1:]]]
    if os.geteuid() == 0 and shutil.which("runuser"):
        cmds.append(["runuser", "-u", "postgres", "--", *base, "-p", PORT])
    elif shutil.which("sudo"):
        cmds.append(["sudo", "-n", "-u", "postgres", *base, "-p", PORT])
    return cmds


def run_sql(sql: str, db: str = "postgres") -> str:
    """Run ``sql`` as superuser; return its output or raise RuntimeError with the reason."""
    errors = []
    for cmd in _candidates(sql, db):
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd="/")
        except FileNotFoundError as exc:
            errors.append(str(exc))
            continue
        if res.returncode == 0:
            return res.stdout.strip()
        errors.append(res.stderr.strip())
    raise RuntimeError(
        "cannot run SQL as the PostgreSQL superuser; either allow trust auth for 'postgres' on "
        f"{HOST} or run as root. Errors: {' | '.join(errors)}"
    )


def ensure_role(name: str, password: str, superuser: bool = False) -> None:
    exists = run_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{name}'")
    verb = "ALTER" if exists == "1" else "CREATE"
    extra = " SUPERUSER" if superuser else " CREATEDB"
    run_sql(f"{verb} ROLE \"{name}\" LOGIN PASSWORD '{password}'{extra}")


def ensure_database(name: str, owner: str) -> None:
    exists = run_sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists != "1":
        run_sql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
