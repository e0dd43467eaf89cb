"""Settings validation: broken configuration stops with one clear line."""

import os
import subprocess
import sys

import pytest


def run_manager(env_overrides: dict) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "pulpcore.app.manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_is_one_line():
    env = {k: v for k, v in os.environ.items() if k != "PULP_SECRET_KEY"}
    env["PULP_SECRET_KEY"] = ""
    res = subprocess.run(
        [sys.executable, "-m", "pulpcore.app.manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and "SECRET_KEY" in lines[0]
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "name,value,needle",
    [
        ("PULP_REDIS_PORT", "not-a-number", "REDIS_PORT"),
        ("PULP_ALLOWED_CONTENT_CHECKSUMS", '["sha256", "crc99"]', "crc99"),
        ("PULP_CONTENT_PATH_PREFIX", "pulp/content", "CONTENT_PATH_PREFIX"),
        ("PULP_USE_NEW_WORKER_TYPE", "maybe", "USE_NEW_WORKER_STYLE"),
    ],
)
def test_malformed_setting_is_one_line(name, value, needle):
    res = run_manager({name: value})
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert needle in res.stderr.strip().splitlines()[-1]


def test_settings_yaml_and_alias(tmp_path):
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("USE_NEW_WORKER_TYPE: true\nCONTENT_ORIGIN: 'http://example.test'\n")
    code = (
        "from django.conf import settings; import django; django.setup();"
        "print(settings.USE_NEW_WORKER_STYLE, settings.CONTENT_ORIGIN)"
    )
    env = dict(os.environ, PULP_SETTINGS=str(cfg), DJANGO_SETTINGS_MODULE="pulpcore.app.settings")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["True", "http://example.test"]
