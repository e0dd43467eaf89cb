"""WSGI entry point for gunicorn: ``gunicorn pulpcore.app.wsgi:application``.

Loading it makes the process an API app: it heartbeats (``pulpcore.app.heartbeat``) so that
``status/`` lists it under ``online_api_apps`` while it runs.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")

application = get_wsgi_application()

from pulpcore.app import heartbeat  # noqa: E402 - needs the settings configured above
from pulpcore.app.storage import check_storage_or_exit  # noqa: E402

check_storage_or_exit()  # a wrong bucket or key stops the API with one line, not at first upload

heartbeat.install()
