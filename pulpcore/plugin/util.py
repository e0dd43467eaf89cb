"""Small helpers plugins need: hrefs, storing files as artifacts, building repository versions."""

from pulpcore.app.models import new_temp_path  # noqa: F401
from pulpcore.app.serializers.content import store_artifact_file  # noqa: F401
from pulpcore.app.tasks.publication import publish_content_artifacts  # noqa: F401
from pulpcore.app.tasks.repository import (  # noqa: F401
    add_and_remove,
    discard_version,
    finish_version,
    new_version,
)
from pulpcore.app.util import HrefError, get_url, resolve_href  # noqa: F401
