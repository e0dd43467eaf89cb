"""Small helpers plugins need: hrefs, storing files as artifacts, building repository versions."""

from pulpcore.app.models import Repository, RepositoryVersion, new_temp_path  # noqa: F401
from pulpcore.app.queries.sql import streamed_rows  # noqa: F401
from pulpcore.app.serializers.content import store_artifact_file  # noqa: F401
from pulpcore.app.tasks.publication import publish_content_artifacts  # noqa: F401
from pulpcore.app.tasks.repository import add_and_remove  # noqa: F401
from pulpcore.app.util import HrefError, get_url, resolve_href  # noqa: F401


def new_version(
    repository: Repository, base_version: RepositoryVersion | None = None
) -> RepositoryVersion:
    """``with new_version(repository) as version:`` is ``with repository.new_version()``."""
    return repository.cast().new_version(base_version)


def finish_version(version: RepositoryVersion) -> RepositoryVersion | None:
    """Complete ``version`` (or delete it when it changed nothing); return it when kept."""
    return version if version.finish() else None


def discard_version(version: RepositoryVersion) -> None:
    """Delete an incomplete version and every membership row it wrote."""
    version.discard()
