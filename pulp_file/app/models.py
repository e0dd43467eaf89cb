"""The file content type and its repository, remote, publication and distribution."""

from django.db import models

from pulpcore.plugin.models import (
    AlternateContentSource,
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
        permissions = [
            ("manage_roles_fileremote", "Can manage roles on file remotes"),
        ]


class FileRepository(Repository):
    """A repository of files, optionally publishing itself after every new version."""

    TYPE = "file"
    CONTENT_TYPES = [FileContent]
    REMOTE_TYPES = [FileRemote]

    manifest = models.TextField(default="PULP_MANIFEST", null=True)
    autopublish = models.BooleanField(default=False)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("modify_filerepository", "Can modify content of the repository"),
            ("manage_roles_filerepository", "Can manage roles on file repositories"),
            ("repair_filerepository", "Can repair repository versions"),
            ("sync_filerepository", "Can start a sync task"),
        ]

    def finalize_new_version(self, new_version) -> None:
        """One file per relative path: a newly added file replaces an older one at its path."""
        added = FileContent.objects.filter(pk__in=new_version.added_content.values("pk"))
        paths = list(added.values_list("relative_path", flat=True))
        if len(paths) != len(set(paths)):
            dupes = sorted({p for p in paths if paths.count(p) > 1})
            raise ValueError(
                "More than one file would be stored at the same relative path: "
                + ", ".join(dupes[:10])
            )
        replaced = FileContent.objects.filter(
            pk__in=new_version.content.values("pk"), relative_path__in=paths
        ).exclude(pk__in=added.values("pk"))
        if replaced.exists():
            new_version.remove_content(replaced)

    def on_new_version(self, version) -> None:
        """Autopublish: publish every new version with this repository's manifest name."""
        if self.autopublish:
            from pulp_file.app.tasks.publishing import publish

            publish(str(version.pk), manifest=self.manifest)


class FilePublication(Publication):
    """A publication of files plus a generated ``PULP_MANIFEST`` (name configurable)."""

    TYPE = "file"

    manifest = models.TextField(default="PULP_MANIFEST", null=True)

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("manage_roles_filepublication", "Can manage roles on file publications"),
        ]


class FileDistribution(Distribution):
    """Serves file publications or repository versions."""

    TYPE = "file"

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("manage_roles_filedistribution", "Can manage roles on file distributions"),
        ]


class FileAlternateContentSource(AlternateContentSource):
    """An ACS of files: each path is a directory with a ``PULP_MANIFEST`` (refresh reads it)."""

    TYPE = "file"
    REPOSITORY_TYPE = FileRepository

    class Meta:
        default_related_name = "%(app_label)s_%(model_name)s"
        permissions = [
            ("refresh_filealternatecontentsource", "Refresh an Alternate Content Source"),
            (
                "manage_roles_filealternatecontentsource",
                "Can manage roles on file alternate content sources",
            ),
        ]
