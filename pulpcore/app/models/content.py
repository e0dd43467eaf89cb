"""Artifacts (stored files addressed by sha256) and the content units that use them."""

import os
from collections.abc import Iterable

from django.conf import settings
from django.db import models

from pulpcore.app.files import CHECKSUM_NAMES, new_temp_path  # noqa: F401 (re-exported)
from pulpcore.app.models.base import BaseModel, MasterModel


def artifact_path(instance: "Artifact", filename: str) -> str:
    """Storage path of an artifact: ``artifact/<sha256[:2]>/<sha256[2:]>``."""
    return os.path.join("artifact", instance.sha256[0:2], instance.sha256[2:])


class Artifact(BaseModel):
    """A file stored once (under MEDIA_ROOT or in the bucket), identified by its sha256."""

    file = models.FileField(upload_to=artifact_path, max_length=255)
    size = models.BigIntegerField()
    md5 = models.CharField(max_length=32, null=True, db_index=True)
    sha1 = models.CharField(max_length=40, null=True, db_index=True)
    sha224 = models.CharField(max_length=56, null=True, db_index=True)
    sha256 = models.CharField(max_length=64, unique=True)
    sha384 = models.CharField(max_length=96, null=True, db_index=True)
    sha512 = models.CharField(max_length=128, null=True, db_index=True)
    timestamp_of_interest = models.DateTimeField(auto_now=True)

    @staticmethod
    def allowed_checksums() -> list[str]:
        return list(settings.ALLOWED_CONTENT_CHECKSUMS)

    @classmethod
    def init_and_validate(cls, path: str, expected: dict | None = None) -> "Artifact":
        """Hash ``path`` once and return an unsaved Artifact; raise on a mismatch."""
        from pulpcore.app.files import hash_file

        digests, size = hash_file(path)
        expected = expected or {}
        for name, value in expected.items():
            if value is None:
                continue
            if name == "size":
                if int(value) != size:
                    raise ArtifactMismatch("size", str(value), str(size))
            elif digests.get(name) != value.lower():
                raise ArtifactMismatch(name, value, digests.get(name))
        art = cls(size=size, **digests)
        art.file = path
        return art

    def save_with_file(self, source_path: str) -> "Artifact":
        """Move ``source_path`` into content-addressed storage and save the row."""
        from pulpcore.app.storage import place_artifact_file

        self.file.name = place_artifact_file(source_path, self.sha256)
        self.save()
        return self


class ArtifactMismatch(ValueError):
    """A file's size or digest differs from what the caller declared."""

    def __init__(self, field: str, expected: str, actual: str | None):
        self.field, self.expected, self.actual = field, expected, actual
        super().__init__(f"The {field} of the file ({actual}) does not match {expected!r}.")


class Content(MasterModel):
    """A content unit; plugins subclass it (e.g. ``file.file``)."""

    upstream_id = models.UUIDField(null=True)
    timestamp_of_interest = models.DateTimeField(auto_now=True)

    # Fields that identify a unit uniquely within its type, set by detail models.
    natural_key_fields: tuple[str, ...] = ()
    # Text that the repository version's content summary lists this type under.
    repo_key_fields: tuple[str, ...] = ()

    class Meta:
        verbose_name_plural = "content"
        # Content lists sort by ``-pulp_created`` (pk tie-break) within a type: this index gives a
        # page of keys, at any offset, by an index-only scan (``queries.pages``).
        indexes = [
            models.Index(
                fields=["pulp_type", "pulp_created", "pulp_id"], name="core_content_type_created"
            )
        ]

    def natural_key(self) -> tuple:
        return tuple(getattr(self, f) for f in self.natural_key_fields)

    @classmethod
    def natural_key_q(cls, keys: Iterable[tuple]) -> models.Q:
        query = models.Q(pk__in=[])
        for key in keys:
            query |= models.Q(**dict(zip(cls.natural_key_fields, key, strict=True)))
        return query


class ContentArtifact(BaseModel):
    """Links a content unit to the artifact (or a future download) at a relative path."""

    content = models.ForeignKey(Content, on_delete=models.CASCADE)
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, null=True)
    relative_path = models.TextField()

    class Meta:
        unique_together = ("content", "relative_path")
        # The content app finds a file of a repository version by its path: start from the few
        # content artifacts with that path instead of every unit of the repository.
        indexes = [models.Index(fields=["relative_path"], name="core_contentartifact_relpath")]


class RemoteArtifact(BaseModel):
    """Where to download a ContentArtifact that is not stored yet (on-demand content)."""

    url = models.TextField()
    size = models.BigIntegerField(null=True)
    md5 = models.CharField(max_length=32, null=True)
    sha1 = models.CharField(max_length=40, null=True)
    sha224 = models.CharField(max_length=56, null=True)
    sha256 = models.CharField(max_length=64, null=True, db_index=True)
    sha384 = models.CharField(max_length=96, null=True)
    sha512 = models.CharField(max_length=128, null=True)
    content_artifact = models.ForeignKey(ContentArtifact, on_delete=models.CASCADE)
    remote = models.ForeignKey("core.Remote", on_delete=models.CASCADE)

    class Meta:
        unique_together = ("content_artifact", "remote")

    def expected_digests(self) -> dict[str, str]:
        return {n: getattr(self, n) for n in CHECKSUM_NAMES if getattr(self, n)}
