"""Settings validation: broken configuration stops with one clear line."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

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
    "env,backend",
    [
        ({}, "pulpcore.app.storage.PulpFileSystemStorage"),
        (
            {"PULP_DEFAULT_FILE_STORAGE": "storages.backends.s3boto3.S3Boto3Storage"},
            "pulpcore.app.storage_s3.PulpS3Storage",
        ),
        (
            {"PULP_STORAGES__default__BACKEND": "storages.backends.s3.S3Storage"},
            "pulpcore.app.storage_s3.PulpS3Storage",
        ),
    ],
)
def test_storage_backend_names(env, backend):
    """Pulp's names for the S3 backend (either setting) mean ours; the filesystem is default."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pulpcore.app.settings",
        "PULP_AWS_STORAGE_BUCKET_NAME": "b",
        **env,
    }
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "from pulpcore.app.storage import storage;"
        "print(settings.STORAGES['default']['BACKEND']); print(type(storage()).__name__);"
        "print(settings.STORAGES['staticfiles']['BACKEND'])"
    )
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    name, cls, static = res.stdout.split()
    assert name == backend and cls == backend.rsplit(".", 1)[1]
    assert static == "whitenoise.storage.CompressedStaticFilesStorage"


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


def _settings_of(cfg, code: str, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, PULP_SETTINGS=str(cfg), DJANGO_SETTINGS_MODULE="pulpcore.app.settings")
    env.update(env_extra)
    # The test environment names the database through PULP_DATABASES__default__*; drop those so
    # only the file speaks for DATABASES.
    env = {k: v for k, v in env.items() if not k.startswith("PULP_DATABASES__")}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings;" + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nested_settings_merge_with_defaults(tmp_path):
    """A settings.yaml naming only NAME/USER keeps CONN_MAX_AGE and every other nested default."""
    cfg = tmp_path / "settings.yaml"
    cfg.write_text(
        "DATABASES:\n  default:\n    NAME: elsewhere\n    USER: someone\n"
        "REST_FRAMEWORK:\n  PAGE_SIZE: 7\n"
        "LOGGING:\n  loggers:\n    pulpcore.tasking:\n      level: DEBUG\n"
        "SPECTACULAR_SETTINGS:\n  TITLE: Mine\n"
    )
    code = (
        "import json; d = settings.DATABASES['default']; r = settings.REST_FRAMEWORK;"
        "print(json.dumps([d['NAME'], d['USER'], d['HOST'], d['CONN_MAX_AGE'],"
        " d['CONN_HEALTH_CHECKS'], d['ENGINE'], r['PAGE_SIZE'], r['URL_FIELD_NAME'],"
        " sorted(settings.LOGGING['loggers']), 'simple' in settings.LOGGING['formatters'],"
        " settings.SPECTACULAR_SETTINGS['TITLE'], settings.SPECTACULAR_SETTINGS['VERSION']]))"
    )
    res = _settings_of(cfg, code)
    assert res.returncode == 0, res.stderr
    import json

    assert json.loads(res.stdout) == [
        "elsewhere",
        "someone",
        "localhost",
        300,
        True,
        "django.db.backends.postgresql",
        7,
        "pulp_href",
        ["", "django.server", "pulpcore.tasking"],
        True,
        "Mine",
        "v3",
    ]


def test_lists_replace_defaults(tmp_path):
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("ALLOWED_CONTENT_CHECKSUMS: [sha256, sha512]\n")
    res = _settings_of(cfg, "print(settings.ALLOWED_CONTENT_CHECKSUMS)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "['sha256', 'sha512']"


def test_make_start_settings_keep_persistent_connections(tmp_path):
    """The settings.yaml scripts/stack.py writes leaves CONN_MAX_AGE/CONN_HEALTH_CHECKS on."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import stack as local_stack
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    cfg = local_stack.settings_file(tmp_path)
    code = "d = settings.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    res = _settings_of(cfg, code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["300", "True"]


def test_redis_password_is_url_quoted(tmp_path):
    cfg = tmp_path / "settings.yaml"
    cfg.write_text("REDIS_PASSWORD: 'p@ss:w/rd#1'\nREDIS_HOST: redis.test\n")
    env = {k: v for k, v in os.environ.items() if k != "PULP_REDIS_HOST"}
    env.update(PULP_SETTINGS=str(cfg), DJANGO_SETTINGS_MODULE="pulpcore.app.settings")
    code = (
        "from django.conf import settings; import redis;"
        "print(settings.REDIS_URL); kw = redis.connection.parse_url(settings.REDIS_URL);"
        "print(kw['password'], kw['host'])"
    )
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    url, parsed = res.stdout.strip().splitlines()
    assert url.startswith("redis://:p%40ss%3Aw%2Frd%231@redis.test:6379/")
    assert parsed == "p@ss:w/rd#1 redis.test"


@pytest.mark.parametrize(
    "name,value,needle",
    [
        ("PULP_CONTENT_DB_THREADS", "0", "CONTENT_DB_THREADS"),
        ("PULP_CONTENT_RESOLVE_CACHE_SIZE", "lots", "CONTENT_RESOLVE_CACHE_SIZE"),
        ("PULP_CONTENT_X_ACCEL_REDIRECT", "internal", "CONTENT_X_ACCEL_REDIRECT"),
        ("PULP_CONTENT_STREAM_REPLAY_LIMIT", "-1", "CONTENT_STREAM_REPLAY_LIMIT"),
        ("PULP_TASK_PROTECTION_TIME", "soon", "TASK_PROTECTION_TIME"),
        ("PULP_ALLOWED_EXPORT_PATHS", '["relative/dir"]', "ALLOWED_EXPORT_PATHS"),
        ("PULP_DATABASES__default__CONN_MAX_AGE", "forever", "CONN_MAX_AGE"),
        ("PULP_DOMAIN_ENABLED", "true", "DOMAIN_ENABLED"),
        ("PULP_REPLICATE_REMOTE_POLICY", "streamed", "REPLICATE_REMOTE_POLICY"),
        ("PULP_REDIRECT_TO_OBJECT_STORAGE", "maybe", "REDIRECT_TO_OBJECT_STORAGE"),
        ("PULP_AWS_QUERYSTRING_EXPIRE", "0", "AWS_QUERYSTRING_EXPIRE"),
        ("PULP_AWS_S3_ADDRESSING_STYLE", "sideways", "AWS_S3_ADDRESSING_STYLE"),
        # An S3 backend (Pulp's older name for the setting) without a bucket.
        (
            "PULP_DEFAULT_FILE_STORAGE",
            "storages.backends.s3boto3.S3Boto3Storage",
            "AWS_STORAGE_BUCKET_NAME",
        ),
    ],
)
def test_more_malformed_settings_are_one_line(name, value, needle):
    res = run_manager({name: value})
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pulp: configuration error: ")
    assert needle in lines[0]


# --- every setting declared once, read from settings.py, listed in the README ---------------------
ROOT = Path(__file__).resolve().parents[2]


def _declared_settings() -> list[str]:
    """Upper-case names assigned at module level in settings.py's Pulp defaults block."""
    tree = ast.parse((ROOT / "pulpcore/app/settings.py").read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    names.append(target.id)
    return names


def test_settings_declared_once():
    names = _declared_settings()
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_pulp_settings_are_in_the_readme_table():
    text = (ROOT / "pulpcore/app/settings.py").read_text()
    block = text[text.index("# --- Defaults") : text.index("# --- Django")]
    pulp_names = re.findall(r"^([A-Z][A-Z0-9_]+) =", block, re.M)
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings") :]
    table = table[: table.index("\n## ")]
    missing = [n for n in pulp_names if f"`{n}`" not in table]
    assert not missing, f"settings missing from the README table: {missing}"


def test_settings_are_read_without_fallback_defaults():
    """No getattr(settings, NAME, default): a default lives in settings.py, nowhere else."""
    offenders = []
    for path in list((ROOT / "pulpcore").rglob("*.py")) + list((ROOT / "pulp_file").rglob("*.py")):
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"getattr\(\s*settings\s*,", line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}")
    assert not offenders, offenders


def test_every_setting_read_is_declared():
    from django.conf import global_settings

    declared = set(_declared_settings()) | {n for n in dir(global_settings) if n.isupper()}
    read = set()
    for path in list((ROOT / "pulpcore").rglob("*.py")) + list((ROOT / "pulp_file").rglob("*.py")):
        read |= set(re.findall(r"\bsettings\.([A-Z][A-Z0-9_]+)\b", path.read_text()))
    # SPECTACULAR_SETTINGS keys read through drf-spectacular's own settings object.
    read -= {"TITLE", "VERSION", "NON_FIELD_ERRORS_KEY"}
    assert read <= declared, sorted(read - declared)


def test_make_start_adds_a_key_file_to_an_older_settings_yaml(tmp_path):
    """A .run/settings.yaml made before encryption existed gets DB_ENCRYPTION_KEY on next start."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import stack as local_stack
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    old = tmp_path / "settings.yaml"
    old.write_text("SECRET_KEY: 'kept'\n")
    local_stack.settings_file(tmp_path)
    text = old.read_text()
    assert text.startswith("SECRET_KEY: 'kept'\n")
    key = tmp_path / "database_fields.symmetric.key"
    assert f"DB_ENCRYPTION_KEY: '{key}'" in text
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    from pulpcore.app.crypto import load_keys

    assert len(load_keys(key)) == 1
    before = key.read_text()
    local_stack.settings_file(tmp_path)  # idempotent: the key is never replaced
    assert key.read_text() == before and old.read_text().count("DB_ENCRYPTION_KEY") == 1
