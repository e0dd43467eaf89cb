"""Merging, validation and derivation of settings after dynaconf read every source.

A misconfigured deployment should fail on start with one line that names the setting, so an
operator reading ``journalctl`` knows what to fix; a Python traceback says nothing useful there.
The checks are dynaconf ``Validator`` objects (one per rule, each with its own message); this
module only adds the few derived values (booleans from strings, REDIS_URL from its parts).
"""

import copy
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any
from urllib.parse import quote

from dynaconf import ValidationError, Validator

KNOWN_CHECKSUMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off", "")
# The S3 backend names an operator may write in STORAGES (Pulp's docs use the first); all mean ours.
S3_BACKEND_ALIASES = (
    "storages.backends.s3boto3.S3Boto3Storage",
    "storages.backends.s3.S3Storage",
)
S3_BACKEND = "pulpcore.app.storage_s3.PulpS3Storage"


class SettingsError(Exception):
    """A setting is missing or malformed."""


# --- Nested defaults ----------------------------------------------------------------------------
def dict_defaults(namespace: Mapping[str, Any]) -> dict[str, dict]:
    """A deep copy of every dict-valued default, taken before dynaconf overrides them."""
    return {
        k: copy.deepcopy(v) for k, v in namespace.items() if k.isupper() and isinstance(v, dict)
    }


def deep_merge(default: dict, override: Any) -> Any:
    """``override`` on top of ``default``: dicts merge key by key, anything else replaces."""
    if not isinstance(override, Mapping):
        return override
    merged = copy.deepcopy(default)
    for key, value in override.items():
        if key == "dynaconf_merge":
            continue
        if isinstance(merged.get(key), dict) and isinstance(value, Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- Conditions ----------------------------------------------------------------------------------
def _boolish(value: object) -> bool:
    return isinstance(value, bool) or (
        isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE
    )


def _to_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def _intlike(minimum: int | None = None) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, bool):
            return False
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        return minimum is None or number >= minimum

    return check


def _number_at_least_zero(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and value >= 0) or (
        value is not None and _intlike(0)(value)
    )


def _slashed(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/") and value.endswith("/")


def _absolute(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/")


def _absolute_list(value: object) -> bool:
    return isinstance(value, list | tuple) and all(_absolute(v) for v in value)


def _checksums(value: object) -> bool:
    if not isinstance(value, list | tuple) or not value:
        raise ValidationError("ALLOWED_CONTENT_CHECKSUMS must be a non-empty list")
    unknown = [str(c) for c in value if c not in KNOWN_CHECKSUMS]
    if unknown:
        raise ValidationError(f"ALLOWED_CONTENT_CHECKSUMS has unknown names: {', '.join(unknown)}")
    return "sha256" in value


def _key_file(value: object) -> bool:
    from pulpcore.app.crypto import KeyFileError, load_keys

    if not isinstance(value, str) or not value:
        raise ValidationError("DB_ENCRYPTION_KEY must be the path of the key file")
    try:
        load_keys(value)
    except KeyFileError as exc:
        if "does not exist" in str(exc):
            raise ValidationError(f"{exc}; create one with: openssl rand -base64 32 > {value}")
        # Never suggest overwriting an existing file: its key may be what decrypts the data.
        raise ValidationError(str(exc))
    return True


def _check(name: str, condition: Callable[[object], bool], message: str, **kw: Any) -> Validator:
    """One rule for one setting, with the sentence an operator reads when it fails."""
    messages = {"condition": message, **kw.pop("messages", {})}
    return Validator(name, condition=condition, messages=messages, **kw)


# Checked against the module's value: reading an empty SECRET_KEY through dynaconf's Django hook
# raises Django's own error, which management commands swallow.
SECRET_KEY_VALIDATOR = Validator(
    "SECRET_KEY",
    must_exist=True,
    is_type_of=str,
    len_min=1,
    messages={
        "must_exist_true": "SECRET_KEY is not set; put SECRET_KEY in settings.yaml or "
        "export PULP_SECRET_KEY",
        "operations": "SECRET_KEY is not set; put SECRET_KEY in settings.yaml or "
        "export PULP_SECRET_KEY",
    },
)

VALIDATORS = [
    _check("DEBUG", _boolish, "DEBUG must be true or false, got {value!r}"),
    _check("REDIS_SSL", _boolish, "REDIS_SSL must be true or false, got {value!r}"),
    _check(
        "USE_NEW_WORKER_STYLE",
        _boolish,
        "USE_NEW_WORKER_STYLE must be true or false, got {value!r}",
    ),
    _check(
        "USE_NEW_WORKER_TYPE",
        lambda v: v is None or _boolish(v),
        "USE_NEW_WORKER_TYPE (alias of USE_NEW_WORKER_STYLE) must be true or false, got {value!r}",
    ),
    _check("REDIS_PORT", _intlike(1), "REDIS_PORT must be an integer, got {value!r}"),
    _check("REDIS_DB", _intlike(0), "REDIS_DB must be an integer, got {value!r}"),
    _check(
        "REDIS_URL",
        lambda v: not v or str(v).startswith(("redis://", "rediss://", "unix://")),
        "REDIS_URL must start with redis://, rediss:// or unix://, got {value!r}",
    ),
    _check(
        "ALLOWED_CONTENT_CHECKSUMS", _checksums, "ALLOWED_CONTENT_CHECKSUMS must include sha256"
    ),
    *[
        _check(name, _slashed, name + " must start and end with '/', got {value!r}")
        for name in ("API_ROOT", "CONTENT_PATH_PREFIX", "STATIC_URL")
    ],
    _check(
        "CONTENT_ORIGIN",
        lambda v: v is None or str(v).startswith(("http://", "https://")),
        "CONTENT_ORIGIN must be an http(s) URL, got {value!r}",
    ),
    *[
        _check(name, _absolute, name + " must be an absolute path, got {value!r}")
        for name in ("MEDIA_ROOT", "WORKING_DIRECTORY", "STATIC_ROOT")
    ],
    *[
        _check(name, _absolute_list, name + " must be a list of absolute paths, got {value!r}")
        for name in ("ALLOWED_IMPORT_PATHS", "ALLOWED_EXPORT_PATHS")
    ],
    _check(
        "DATABASES.default.NAME",
        lambda v: isinstance(v, str) and bool(v),
        "DATABASES.default.NAME must be set",
        must_exist=True,
        messages={"must_exist_true": "DATABASES.default.NAME must be set"},
    ),
    _check(
        "DATABASES.default.CONN_MAX_AGE",
        lambda v: v is None or _intlike(0)(v),
        "DATABASES.default.CONN_MAX_AGE must be a number of seconds or null, got {value!r}",
    ),
    *[
        _check(name, _intlike(1), name + " must be a positive number of seconds, got {value!r}")
        for name in ("API_APP_TTL", "CONTENT_APP_TTL", "WORKER_TTL")
    ],
    *[
        _check(name, _number_at_least_zero, name + " must be minutes (0 or more), got {value!r}")
        for name in ("ORPHAN_PROTECTION_TIME", "TASK_PROTECTION_TIME", "UPLOAD_PROTECTION_TIME")
    ],
    _check(
        "ORPHAN_CLEANUP_INTERVAL",
        lambda v: v in (None, "") or _intlike(1)(v),
        "ORPHAN_CLEANUP_INTERVAL must be minutes (1 or more) or null (off), got {value!r}",
    ),
    _check(
        "CONTENT_DB_THREADS", _intlike(1), "CONTENT_DB_THREADS must be 1 or more, got {value!r}"
    ),
    _check("CONTENT_RESOLVE_CACHE", _boolish, "CONTENT_RESOLVE_CACHE must be true or false"),
    _check(
        "CONTENT_RESOLVE_CACHE_SIZE",
        _intlike(0),
        "CONTENT_RESOLVE_CACHE_SIZE must be an integer (0 or more), got {value!r}",
    ),
    _check(
        "CONTENT_X_ACCEL_REDIRECT",
        lambda v: not v or _slashed(v),
        "CONTENT_X_ACCEL_REDIRECT must be empty or a location starting and ending with '/', "
        "got {value!r}",
    ),
    _check(
        "CONTENT_STREAM_REPLAY_LIMIT",
        _intlike(0),
        "CONTENT_STREAM_REPLAY_LIMIT must be a number of bytes, got {value!r}",
    ),
    _check(
        "REMOTE_USER_ENVIRON_NAME",
        lambda v: isinstance(v, str) and bool(v),
        "REMOTE_USER_ENVIRON_NAME must be a WSGI environ name such as HTTP_REMOTE_USER",
    ),
    _check("HIDE_GUARDED_DISTRIBUTIONS", _boolish, "HIDE_GUARDED_DISTRIBUTIONS must be a boolean"),
    _check(
        "DOMAIN_ENABLED",
        lambda v: not _to_bool(v),
        "DOMAIN_ENABLED is not supported by this Pulp; remove it or set it to false",
    ),
    _check(
        "CACHE_ENABLED",
        lambda v: not _to_bool(v),
        "CACHE_ENABLED is not supported by this Pulp; remove it or set it to false",
    ),
    _check(
        "REPLICATE_REMOTE_POLICY",
        lambda v: v in ("immediate", "on_demand"),
        "REPLICATE_REMOTE_POLICY must be 'immediate' or 'on_demand', got {value!r}",
    ),
    _check("DB_ENCRYPTION_KEY", _key_file, "DB_ENCRYPTION_KEY is not a readable key file"),
    _check(
        "REDIRECT_TO_OBJECT_STORAGE",
        _boolish,
        "REDIRECT_TO_OBJECT_STORAGE must be true or false, got {value!r}",
    ),
    _check(
        "AWS_QUERYSTRING_EXPIRE",
        _intlike(1),
        "AWS_QUERYSTRING_EXPIRE must be a positive number of seconds, got {value!r}",
    ),
    _check(
        "AWS_S3_ADDRESSING_STYLE",
        lambda v: v in (None, "", "auto", "path", "virtual"),
        "AWS_S3_ADDRESSING_STYLE must be 'path', 'virtual' or 'auto', got {value!r}",
    ),
]

# Settings whose derived value must reach django.conf.settings, which reads dynaconf's object.
DERIVED = (
    "DEBUG",
    "USE_NEW_WORKER_STYLE",
    "USE_NEW_WORKER_TYPE",
    "REDIS_SSL",
    "REDIS_PORT",
    "REDIS_DB",
    "REDIS_URL",
    "ALLOWED_CONTENT_CHECKSUMS",
    "FILE_UPLOAD_TEMP_DIR",
    "CONTENT_DB_THREADS",
    "CONTENT_RESOLVE_CACHE",
    "CONTENT_RESOLVE_CACHE_SIZE",
    "CONTENT_X_ACCEL_REDIRECT",
    "CONTENT_STREAM_REPLAY_LIMIT",
    "HIDE_GUARDED_DISTRIBUTIONS",
    "ORPHAN_CLEANUP_INTERVAL",
    "STORAGES",
    "REDIRECT_TO_OBJECT_STORAGE",
    "AWS_QUERYSTRING_EXPIRE",
)


def _fail(message: str) -> None:
    sys.stderr.write(f"pulp: configuration error: {message}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def redis_url(mod: ModuleType) -> str:
    """REDIS_URL from its parts; the password is URL-quoted so '@', ':' or '/' survive."""
    scheme = "rediss" if mod.REDIS_SSL else "redis"
    auth = f":{quote(str(mod.REDIS_PASSWORD), safe='')}@" if mod.REDIS_PASSWORD else ""
    return f"{scheme}://{auth}{mod.REDIS_HOST}:{mod.REDIS_PORT}/{mod.REDIS_DB}"


def derive(mod: ModuleType) -> None:
    """Normalise validated values in place (types, aliases, derived settings)."""
    mod.DEBUG = _to_bool(mod.DEBUG)
    style = mod.USE_NEW_WORKER_STYLE
    if mod.USE_NEW_WORKER_TYPE is not None:
        style = mod.USE_NEW_WORKER_TYPE
    mod.USE_NEW_WORKER_STYLE = mod.USE_NEW_WORKER_TYPE = _to_bool(style)
    mod.REDIS_SSL = _to_bool(mod.REDIS_SSL)
    mod.REDIS_PORT = int(mod.REDIS_PORT)
    mod.REDIS_DB = int(mod.REDIS_DB)
    if not mod.REDIS_URL:
        mod.REDIS_URL = redis_url(mod)
    mod.ALLOWED_CONTENT_CHECKSUMS = list(mod.ALLOWED_CONTENT_CHECKSUMS)
    mod.FILE_UPLOAD_TEMP_DIR = mod.WORKING_DIRECTORY
    mod.CONTENT_DB_THREADS = int(mod.CONTENT_DB_THREADS)
    mod.CONTENT_RESOLVE_CACHE = _to_bool(mod.CONTENT_RESOLVE_CACHE)
    mod.CONTENT_RESOLVE_CACHE_SIZE = int(mod.CONTENT_RESOLVE_CACHE_SIZE)
    mod.CONTENT_X_ACCEL_REDIRECT = mod.CONTENT_X_ACCEL_REDIRECT or None
    mod.CONTENT_STREAM_REPLAY_LIMIT = int(mod.CONTENT_STREAM_REPLAY_LIMIT)
    mod.HIDE_GUARDED_DISTRIBUTIONS = _to_bool(mod.HIDE_GUARDED_DISTRIBUTIONS)
    interval = mod.ORPHAN_CLEANUP_INTERVAL
    mod.ORPHAN_CLEANUP_INTERVAL = None if interval in (None, "") else int(interval)
    derive_storage(mod)


def derive_storage(mod: ModuleType) -> None:
    """STORAGES["default"] from Pulp's names: DEFAULT_FILE_STORAGE wins, S3 aliases mean ours."""
    storages = dict(mod.STORAGES)
    default = dict(storages.get("default") or {})
    if mod.DEFAULT_FILE_STORAGE:
        default["BACKEND"] = str(mod.DEFAULT_FILE_STORAGE)
    backend = default.get("BACKEND")
    if not backend:
        raise SettingsError("STORAGES.default.BACKEND must name a storage class")
    if backend in S3_BACKEND_ALIASES:
        default["BACKEND"] = backend = S3_BACKEND
    if backend == S3_BACKEND:
        options = default.get("OPTIONS") or {}
        if not (options.get("bucket_name") or mod.AWS_STORAGE_BUCKET_NAME):
            raise SettingsError(
                "the S3 storage needs AWS_STORAGE_BUCKET_NAME (the bucket for artifacts)"
            )
    storages["default"] = default
    mod.STORAGES = storages
    mod.REDIRECT_TO_OBJECT_STORAGE = _to_bool(mod.REDIRECT_TO_OBJECT_STORAGE)
    mod.AWS_QUERYSTRING_EXPIRE = int(mod.AWS_QUERYSTRING_EXPIRE)


def finalize(mod: ModuleType, dict_defaults: dict[str, dict] | None = None) -> None:
    """Merge nested defaults, validate, derive; or stop the process with one clear line."""
    dyn = getattr(mod, "settings", None)
    for name, default in (dict_defaults or {}).items():
        merged = deep_merge(default, getattr(mod, name, default))
        setattr(mod, name, merged)
        if dyn is not None:
            dyn.set(name, merged, merge=False)
    try:
        secret = getattr(mod, "SECRET_KEY", None)
        SECRET_KEY_VALIDATOR.validate({} if secret is None else {"SECRET_KEY": secret})
        if dyn is not None:
            dyn.validators.register(*VALIDATORS)
            dyn.validators.validate_all()
        derive(mod)
    except ValidationError as exc:
        _fail(" ".join(str(exc).split()))
    except SettingsError as exc:
        _fail(str(exc))
    if dyn is not None:
        for name in DERIVED:
            dyn.set(name, getattr(mod, name))
