"""Django settings for the API, content app and workers.

Defaults live here; a deployment overrides them from ``settings.yaml`` (``PULP_SETTINGS``, default
``/etc/pulp/settings.yaml``) or ``PULP_<NAME>`` environment variables, the way Pulp does, through
dynaconf. A broken configuration stops the process with one readable line instead of a traceback.
"""

import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# --- Defaults (Pulp's names) ---------------------------------------------------------------------
# Every setting Pulp code reads is declared here, once, with what it is for; settings_check.py
# validates each one and the README's settings table lists them. Dict-valued settings merge with
# these defaults key by key (a settings.yaml naming DATABASES.default.NAME keeps CONN_MAX_AGE).

# Django's debug mode: tracebacks in responses. Never on in production.
DEBUG = False
# Django's signing key (sessions, CSRF); required, no default.
SECRET_KEY = None
# Host names the API answers for; the webserver in front decides who reaches it.
ALLOWED_HOSTS = ["*"]

# PostgreSQL, the only supported database.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "pulp",
        "USER": "pulp",
        "PASSWORD": "",
        "HOST": "localhost",
        "PORT": "5432",
        # Reuse a process's connection across API requests (a new PostgreSQL connection costs
        # ~10 ms per request); the health check replaces it after a database restart.
        "CONN_MAX_AGE": 300,
        "CONN_HEALTH_CHECKS": True,
    }
}

# Redis, used by the rq tasking system; REDIS_URL, when set, wins over the parts.
REDIS_HOST = "localhost"
REDIS_PORT = 6379
REDIS_DB = 0
# Quoted into the derived REDIS_URL, so any character is allowed.
REDIS_PASSWORD = None
REDIS_URL = None
# Connect with TLS (rediss://).
REDIS_SSL = False

# Where artifacts are stored (filesystem storage).
MEDIA_ROOT = "/var/lib/pulp/media/"
# Where collectstatic puts the API's static files, served under STATIC_URL.
STATIC_ROOT = "/var/lib/pulp/assets/"
STATIC_URL = "/assets/"
# Scratch space for uploads and tasks; must be on the same filesystem as MEDIA_ROOT.
WORKING_DIRECTORY = "/var/lib/pulp/tmp/"
FILE_UPLOAD_TEMP_DIR = WORKING_DIRECTORY

# Where stored bytes live is STORAGES["default"] (in the Django block below): the filesystem under
# MEDIA_ROOT by default, or S3 with BACKEND "storages.backends.s3boto3.S3Boto3Storage" (Pulp's
# name; it means pulpcore.app.storage_s3.PulpS3Storage here). Pulp's older single name for the
# same thing; when set it replaces STORAGES["default"]["BACKEND"].
DEFAULT_FILE_STORAGE = None
# S3 storage (django-storages' names, as Pulp documents them); read only with an S3 backend.
AWS_ACCESS_KEY_ID = None
AWS_SECRET_ACCESS_KEY = None  # a secret: keep it in a vault-encrypted settings file
AWS_STORAGE_BUCKET_NAME = None
# The S3-compatible server's URL (MinIO, Ceph, moto ...); None means AWS itself.
AWS_S3_ENDPOINT_URL = None
AWS_S3_REGION_NAME = None
# Canned ACL given to uploaded objects (e.g. "private"); None leaves the bucket's default.
AWS_DEFAULT_ACL = None
# "path" or "virtual" host addressing; None lets botocore choose.
AWS_S3_ADDRESSING_STYLE = None
# Seconds a presigned download URL stays valid.
AWS_QUERYSTRING_EXPIRE = 3600
# Content app on S3: answer an artifact request with a 302 to a presigned URL (true), or stream
# the object through the content app (false). Ignored for filesystem storage.
REDIRECT_TO_OBJECT_STORAGE = True

# Key file for the fields Pulp stores encrypted (remote credentials, task arguments): one Fernet
# key per line, the first encrypts, all decrypt (see pulpcore/app/crypto.py, rotate-db-key).
DB_ENCRYPTION_KEY = "/etc/pulp/certs/database_fields.symmetric.key"

# Base URL of the content app, used to build distribution base_url; required to serve content.
CONTENT_ORIGIN = None
# Path prefix under which the content app serves distributions.
CONTENT_PATH_PREFIX = "/pulp/content/"
# Path prefix of the REST API (the API lives under API_ROOT + "api/v3/").
API_ROOT = "/pulp/"
# Seconds after its last heartbeat an API process, content app or worker counts as gone.
API_APP_TTL = 120
CONTENT_APP_TTL = 30
WORKER_TTL = 30

# Threads the content app uses for database queries.
CONTENT_DB_THREADS = 4
# Cache path resolutions in the content app (invalidated through PostgreSQL LISTEN/NOTIFY).
CONTENT_RESOLVE_CACHE = True
# Entries the resolution cache holds per content-app process.
CONTENT_RESOLVE_CACHE_SIZE = 20000
# When set (e.g. "/pulp/media-internal/"), the content app answers with X-Accel-Redirect under
# this internal nginx location and nginx sends the file's bytes.
CONTENT_X_ACCEL_REDIRECT = None
# Bytes of a streamed (on-demand) download kept in memory so a retried stream can replay them.
CONTENT_STREAM_REPLAY_LIMIT = 32 * 1024 * 1024

# Checksums computed and stored for every artifact; sha256 is required.
ALLOWED_CONTENT_CHECKSUMS = ["sha224", "sha256", "sha384", "sha512"]
# Server directories a sync or upload may read from (file:// remotes); empty allows none.
ALLOWED_IMPORT_PATHS = []
# Server directories exporters may write to; empty allows none.
ALLOWED_EXPORT_PATHS = []
# Minutes an orphaned content unit or artifact is kept before orphan cleanup may remove it.
ORPHAN_PROTECTION_TIME = 24 * 60
# Minutes between orphan cleanups the workers dispatch by themselves (task-schedules/); None = off.
ORPHAN_CLEANUP_INTERVAL = None
# Download policy of the remotes a replication from an upstream Pulp creates (upstream-pulps/):
# "immediate" stores every file, "on_demand" fetches files from the upstream when first asked.
REPLICATE_REMOTE_POLICY = "immediate"
# Minutes a finished task is kept; older ones are removed by orphan cleanup. 0 keeps them forever.
TASK_PROTECTION_TIME = 0
# Minutes an unfinished upload is kept; older ones are removed by orphan cleanup. 0 keeps them.
UPLOAD_PROTECTION_TIME = 0
# Request header (as a WSGI environ name) the webserver sets to the authenticated user's name,
# read by pulpcore.app.authentication.PulpRemoteUserAuthentication when that class is enabled.
REMOTE_USER_ENVIRON_NAME = "REMOTE_USER"
# Pulp's multi-tenancy switch; domains are not implemented, so it must stay off.
DOMAIN_ENABLED = False
# Pulp's Redis response cache for the content app; not implemented, so it must stay off.
CACHE_ENABLED = False
# Leave distributions protected by a content guard out of the content app's listings.
HIDE_GUARDED_DISTRIBUTIONS = False

# Tasking: rq + resource-manager by default, or PostgreSQL-only workers. USE_NEW_WORKER_TYPE is
# Pulp's name for the same switch; either one wins when set.
USE_NEW_WORKER_STYLE = False
USE_NEW_WORKER_TYPE = None

# --- Django --------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pulpcore.app",
]

# Plugins announce themselves through the "pulpcore.plugin" entry point group, like Pulp's.
for _ep in sorted(entry_points(group="pulpcore.plugin"), key=lambda e: e.name):
    INSTALLED_APPS.append(_ep.value.split(":")[0] if ":" in _ep.value else _ep.value)

MIDDLEWARE = [
    "pulpcore.app.middleware.CorrelationIdMiddleware",
    "pulpcore.app.middleware.CurrentRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "pulpcore.app.urls"
WSGI_APPLICATION = "pulpcore.app.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Who checks a user's credentials. For webserver authentication add
# "django.contrib.auth.backends.RemoteUserBackend" here and
# "pulpcore.app.authentication.PulpRemoteUserAuthentication" to REST_FRAMEWORK's
# DEFAULT_AUTHENTICATION_CLASSES (see REMOTE_USER_ENVIRON_NAME).
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# Passwords set through users/ must pass these (as in Pulp's defaults).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STORAGES = {
    "default": {"BACKEND": "pulpcore.app.storage.PulpFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "URL_FIELD_NAME": "pulp_href",
    "DEFAULT_FILTER_BACKENDS": ("pulpcore.app.filters.StrictFilterBackend",),
    "DEFAULT_PAGINATION_CLASS": "pulpcore.app.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    # Basic first: DRF answers an anonymous call with the first authenticator's challenge, so
    # clients get 401 + WWW-Authenticate instead of a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "pulpcore.app.authentication.CachedBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ),
    "DEFAULT_RENDERER_CLASSES": (
        "pulpcore.app.renderers.PlainJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ),
    "UPLOADED_FILES_USE_URL": False,
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_SCHEMA_CLASS": "pulpcore.app.openapi.PulpAutoSchema",
    "EXCEPTION_HANDLER": "pulpcore.app.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Pulp 3 API",
    "VERSION": "v3",
    "SERVE_INCLUDE_SCHEMA": True,
    "COMPONENT_SPLIT_REQUEST": True,
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    "DEFAULT_GENERATOR_CLASS": "pulpcore.app.openapi.PulpSchemaGenerator",
    "ENUM_NAME_OVERRIDES": {
        # The remote download policy, named as in Pulp's document (the suffix is a value hash).
        "Policy692Enum": ["immediate", "on_demand", "streamed"],
    },
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    # Free-form objects are a bare {"type": "object"} in Pulp's document.
    "GENERIC_ADDITIONAL_PROPERTIES": None,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "simple": {"format": "pulp [%(correlation_id)s]: %(name)s:%(levelname)s: %(message)s"}
    },
    "filters": {"correlation_id": {"()": "pulpcore.app.logging.CorrelationIdFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "simple",
            "filters": ["correlation_id"],
        }
    },
    "loggers": {
        "": {"handlers": ["console"], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Overrides from settings.yaml and PULP_* environment -----------------------------------------
from pulpcore.app.settings_check import dict_defaults, finalize  # noqa: E402

_DICT_DEFAULTS = dict_defaults(globals())

from dynaconf import DjangoDynaconf  # noqa: E402

settings = DjangoDynaconf(
    __name__,
    ENVVAR_PREFIX_FOR_DYNACONF="PULP",
    ENV_SWITCHER_FOR_DYNACONF="PULP_ENV",
    SETTINGS_FILE_FOR_DYNACONF=os.environ.get("PULP_SETTINGS", "/etc/pulp/settings.yaml"),
    ENVIRONMENTS_FOR_DYNACONF=False,
    LOAD_DOTENV_FOR_DYNACONF=False,
)

finalize(sys.modules[__name__], _DICT_DEFAULTS)
