"""WSGI entry point for gunicorn: ``gunicorn pulpcore.app.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")

application = get_wsgi_application()
