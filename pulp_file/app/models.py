"""The file content type and its repository, remote, publication and distribution."""

from django.db import models

from pulpcore.plugin.models import (
    Content,
    Distribution,
    Publication,
    Remote,
    Repository,
)


class FileContent(Content):
    """A file at ``relative_path``, identified by that path plus its sha256 (``digest``)."""

    TYPE = "file"
    natural_key_fields = ("relative_path", "digest")

    relative_path = models.TextField(null=False)
    digest = models.CharField(max_length=64, null=False)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        unique_together = ("relative_path", "digest")


class FileRemote(Remote):
    """A remote serving a ``PULP_MANIFEST`` and the files it lists."""

    TYPE = "file"

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"


class FileRepository(Repository):
    """A repository of files, optionally publishing itself after every new version."""

    TYPE = "file"
    CONTENT_TYPES = [FileContent]
    REMOTE_TYPES = [FileRemote]

    manifest = models.TextField(default="PULP_MANIFEST", null=True)
    autopublish = models.BooleanField(default=False)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"


class FilePublication(Publication):
    """A publication of files plus a generated ``PULP_MANIFEST`` (name configurable)."""

    TYPE = "file"

    manifest = models.TextField(default="PULP_MANIFEST", null=True)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"


class FileDistribution(Distribution):
    """Serves file publications or repository versions."""

    TYPE = "file"

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
