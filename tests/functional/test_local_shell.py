"""A newcomer's commands against the local stack: with one documented step (``make shell``, or
sourcing ``.run/env``) ``pulpcore-manager`` finds the stack's settings; without it, it cannot.

The run directory is the test's own, with a ``settings.yaml`` like ``make start`` writes but
pointing at this test's database, and every ``PULP_*`` variable of the test environment removed
so the commands see only what a fresh shell would.
"""

import os
import secrets
import subprocess
from pathlib import Path

import pytest
import requests
import yaml

from tests.stack import BIN, Stack, free_port, wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def local(tmp_path):
    stack = Stack("localshell").setup()  # database migrated, as after `make start`
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    var = stack.root / "var"
    settings = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": stack.db_name,
                "USER": os.environ["PULP_DATABASES__default__USER"],
                "PASSWORD": os.environ.get("PULP_DATABASES__default__PASSWORD", ""),
                "HOST": os.environ["PULP_DATABASES__default__HOST"],
                "PORT": int(os.environ["PULP_DATABASES__default__PORT"]),
            }
        },
        "REDIS_HOST": "127.0.0.1",
        "REDIS_DB": int(os.environ.get("PULP_REDIS_DB", "0")),
        "MEDIA_ROOT": f"{var}/media/",
        "STATIC_ROOT": f"{var}/assets/",
        "WORKING_DIRECTORY": f"{var}/tmp/",
    }
    for sub in ("media", "assets", "tmp"):
        (var / sub).mkdir(parents=True, exist_ok=True)
    (run_dir / "settings.yaml").write_text(yaml.safe_dump(settings))
    # A fresh login shell: no Pulp or Django variables, the venv not on PATH.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PULP_", "DJANGO_", "VIRTUAL_"))
    }
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":") if p != str(BIN))
    env["HOME"] = str(tmp_path)
    yield stack, run_dir, env, var
    stack.stop_all()
    stack.drop_database()


def _login_works(base_url: str, password: str) -> bool:
    r = requests.get(f"{base_url}/pulp/api/v3/artifacts/", auth=("admin", password), timeout=5)
    return r.status_code == 200


def test_manager_commands_through_make_shell(local):
    stack, run_dir, env, var = local
    manager = str(BIN / "pulpcore-manager")

    # Without the step the settings are not found (the reported failure).
    bare = subprocess.run(
        [manager, "reset-admin-password", "--password=x"], env=env, capture_output=True, text=True
    )
    assert bare.returncode != 0
    assert "SECRET_KEY" in bare.stderr + bare.stdout

    # make shell with a command (the make target, not only the script behind it).
    password = secrets.token_urlsafe(10)
    make = [
        "make", "-s", "-o", ".venv/bin/pulpcore-manager", "shell", f"RUN={run_dir}",
    ]  # fmt: skip
    res = subprocess.run(
        [*make, f"CMD=pulpcore-manager reset-admin-password --password={password}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr

    # make shell reading commands from stdin, as an interactive shell would.
    script = "pulpcore-manager collectstatic --no-input -v0 && echo static-ok\n"
    res = subprocess.run(
        make, cwd=REPO, env={**env, "SHELL": "/bin/sh"}, input=script, capture_output=True,
        text=True,
    )  # fmt: skip
    assert res.returncode == 0 and "static-ok" in res.stdout, res.stdout + res.stderr
    assert any((var / "assets").rglob("*.css")), "collectstatic wrote nothing to STATIC_ROOT"

    # Sourcing the env script: runserver serves the stack's database with the new password.
    assert (run_dir / "env").exists()
    port = free_port()
    server = subprocess.Popen(
        [
            "/bin/sh",
            "-c",
            f". '{run_dir}/env' && exec pulpcore-manager runserver {port} --noreload",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _login_works(base, password), timeout=60, what="runserver")
        assert not _login_works(base, stack.admin_password)
    finally:
        server.terminate()
        server.wait(timeout=20)
