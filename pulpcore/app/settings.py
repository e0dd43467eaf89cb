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
DEBUG = False
SECRET_KEY = None
ALLOWED_HOSTS = ["*"]

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

REDIS_HOST = "localhost"
REDIS_PORT = 6379
REDIS_DB = 0
REDIS_PASSWORD = None
REDIS_URL = None
REDIS_SSL = False

MEDIA_ROOT = "/var/lib/pulp/media/"
STATIC_ROOT = "/var/lib/pulp/assets/"
STATIC_URL = "/assets/"
WORKING_DIRECTORY = "/var/lib/pulp/tmp/"
FILE_UPLOAD_TEMP_DIR = WORKING_DIRECTORY

CONTENT_ORIGIN = None
CONTENT_PATH_PREFIX = "/pulp/content/"
API_ROOT = "/pulp/"
API_APP_TTL = 120
CONTENT_APP_TTL = 30
WORKER_TTL = 30

ALLOWED_CONTENT_CHECKSUMS = ["sha224", "sha256", "sha384", "sha512"]
ALLOWED_IMPORT_PATHS = []
ALLOWED_EXPORT_PATHS = []
ORPHAN_PROTECTION_TIME = 24 * 60
TASK_PROTECTION_TIME = 0
UPLOAD_PROTECTION_TIME = 0
REMOTE_USER_ENVIRON_NAME = "REMOTE_USER"
DOMAIN_ENABLED = False
CACHE_ENABLED = False
HIDE_GUARDED_DISTRIBUTIONS = False

# Tasking: rq + resource-manager by default, or PostgreSQL-only workers.
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

AUTH_PASSWORD_VALIDATORS = []
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
from dynaconf import DjangoDynaconf  # noqa: E402

settings = DjangoDynaconf(
    __name__,
    ENVVAR_PREFIX_FOR_DYNACONF="PULP",
    ENV_SWITCHER_FOR_DYNACONF="PULP_ENV",
    SETTINGS_FILE_FOR_DYNACONF=os.environ.get("PULP_SETTINGS", "/etc/pulp/settings.yaml"),
    ENVIRONMENTS_FOR_DYNACONF=False,
    LOAD_DOTENV_FOR_DYNACONF=False,
)

from pulpcore.app.settings_check import finalize  # noqa: E402

finalize(sys.modules[__name__])
