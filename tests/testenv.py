"""Loaded by pytest before Django (``-p tests.testenv``): points settings at test resources.

``PULP_TEST_PREFIX`` namespaces databases, Redis DB and directories so several test runs can share
one machine's PostgreSQL and Redis without touching each other.
"""

import os

PREFIX = os.environ.get("PULP_TEST_PREFIX", "pulptest")
ROOT = os.environ.get("PULP_TEST_ROOT", f"/tmp/{PREFIX}")

_defaults = {
    "PULP_SETTINGS": "/nonexistent/settings.yaml",
    "PULP_SECRET_KEY": "test-only-secret-key",
    "PULP_DATABASES__default__NAME": PREFIX,
    "PULP_DATABASES__default__USER": os.environ.get("PULP_TEST_DB_USER", "postgres"),
    "PULP_DATABASES__default__HOST": os.environ.get("PULP_TEST_DB_HOST", "127.0.0.1"),
    "PULP_DATABASES__default__PORT": os.environ.get("PULP_TEST_DB_PORT", "5432"),
    "PULP_DATABASES__default__PASSWORD": os.environ.get("PULP_TEST_DB_PASSWORD", ""),
    "PULP_REDIS_HOST": "127.0.0.1",
    "PULP_REDIS_DB": os.environ.get("PULP_TEST_REDIS_DB", "0"),
    "PULP_MEDIA_ROOT": f"{ROOT}/media/",
    "PULP_STATIC_ROOT": f"{ROOT}/assets/",
    "PULP_WORKING_DIRECTORY": f"{ROOT}/tmp/",
    "PULP_DB_ENCRYPTION_KEY": f"{ROOT}/database_fields.symmetric.key",
}
for key, value in _defaults.items():
    os.environ.setdefault(key, value)
for sub in ("media", "assets", "tmp"):
    os.makedirs(f"{ROOT}/{sub}", exist_ok=True)


def ensure_key_file(path: str) -> None:
    """A Fernet key for this prefix, made once and kept (encrypted rows must stay readable)."""
    if os.path.exists(path):
        return
    import base64
    import secrets

    tmp = f"{path}.{os.getpid()}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    try:
        os.link(tmp, path)  # atomic and never overwrites a key another run made first
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


ensure_key_file(os.environ["PULP_DB_ENCRYPTION_KEY"])
