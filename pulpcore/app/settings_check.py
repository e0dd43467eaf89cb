"""Validation and derivation of settings after dynaconf merged every source.

A misconfigured deployment should fail on start with one line that names the setting, so an
operator reading ``journalctl`` knows what to fix; a Python traceback says nothing useful there.
"""

import sys
from types import ModuleType

KNOWN_CHECKSUMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


NORMALISED = (
    "DEBUG",
    "USE_NEW_WORKER_STYLE",
    "USE_NEW_WORKER_TYPE",
    "REDIS_PORT",
    "REDIS_DB",
    "REDIS_URL",
    "ALLOWED_CONTENT_CHECKSUMS",
    "FILE_UPLOAD_TEMP_DIR",
)


class SettingsError(Exception):
    """A setting is missing or malformed."""


def _fail(message: str) -> None:
    sys.stderr.write(f"pulp: configuration error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _as_int(name: str, value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be an integer, got {value!r}")


def validate(mod: ModuleType) -> None:
    """Check and normalise the settings module in place; raise SettingsError on bad values."""
    if not mod.SECRET_KEY or not isinstance(mod.SECRET_KEY, str):
        raise SettingsError(
            "SECRET_KEY is not set; put SECRET_KEY in settings.yaml or export PULP_SECRET_KEY"
        )
    mod.DEBUG = _as_bool("DEBUG", mod.DEBUG)
    # Pulp's real name is USE_NEW_WORKER_TYPE; both spellings switch the tasking system.
    style = mod.USE_NEW_WORKER_STYLE
    if mod.USE_NEW_WORKER_TYPE is not None:
        style = mod.USE_NEW_WORKER_TYPE
    mod.USE_NEW_WORKER_STYLE = mod.USE_NEW_WORKER_TYPE = _as_bool("USE_NEW_WORKER_STYLE", style)

    mod.REDIS_PORT = _as_int("REDIS_PORT", mod.REDIS_PORT)
    mod.REDIS_DB = _as_int("REDIS_DB", mod.REDIS_DB)
    if not mod.REDIS_URL:
        scheme = "rediss" if _as_bool("REDIS_SSL", mod.REDIS_SSL) else "redis"
        auth = f":{mod.REDIS_PASSWORD}@" if mod.REDIS_PASSWORD else ""
        mod.REDIS_URL = f"{scheme}://{auth}{mod.REDIS_HOST}:{mod.REDIS_PORT}/{mod.REDIS_DB}"
    elif not str(mod.REDIS_URL).startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"REDIS_URL must start with redis://, got {mod.REDIS_URL!r}")

    checksums = mod.ALLOWED_CONTENT_CHECKSUMS
    if not isinstance(checksums, list | tuple) or not checksums:
        raise SettingsError("ALLOWED_CONTENT_CHECKSUMS must be a non-empty list")
    unknown = [c for c in checksums if c not in KNOWN_CHECKSUMS]
    if unknown:
        raise SettingsError(f"ALLOWED_CONTENT_CHECKSUMS has unknown names: {', '.join(unknown)}")
    if "sha256" not in checksums:
        raise SettingsError("ALLOWED_CONTENT_CHECKSUMS must include sha256")
    mod.ALLOWED_CONTENT_CHECKSUMS = list(checksums)

    for name in ("API_ROOT", "CONTENT_PATH_PREFIX", "STATIC_URL"):
        value = getattr(mod, name)
        if not isinstance(value, str) or not value.startswith("/") or not value.endswith("/"):
            raise SettingsError(f"{name} must start and end with '/', got {value!r}")
    if mod.CONTENT_ORIGIN is not None and not str(mod.CONTENT_ORIGIN).startswith(
        ("http://", "https://")
    ):
        raise SettingsError(f"CONTENT_ORIGIN must be an http(s) URL, got {mod.CONTENT_ORIGIN!r}")
    for name in ("MEDIA_ROOT", "WORKING_DIRECTORY", "STATIC_ROOT"):
        value = getattr(mod, name)
        if not isinstance(value, str) or not value.startswith("/"):
            raise SettingsError(f"{name} must be an absolute path, got {value!r}")
    mod.FILE_UPLOAD_TEMP_DIR = mod.WORKING_DIRECTORY
    db = mod.DATABASES.get("default") if isinstance(mod.DATABASES, dict) else None
    if not isinstance(db, dict) or not db.get("NAME"):
        raise SettingsError("DATABASES.default.NAME must be set")


def finalize(mod: ModuleType) -> None:
    """Validate, or stop the process with one clear line."""
    try:
        validate(mod)
    except SettingsError as exc:
        _fail(str(exc))
    # django.conf.settings reads through dynaconf's object: give it the normalised values too.
    dyn = getattr(mod, "settings", None)
    if dyn is not None and hasattr(dyn, "set"):
        for name in NORMALISED:
            dyn.set(name, getattr(mod, name))
