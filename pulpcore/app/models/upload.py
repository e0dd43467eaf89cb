"""Chunked uploads: a declared size, chunks written at offsets, committed into an Artifact."""

from django.db import models

from pulpcore.app.models.base import BaseModel


class Upload(BaseModel):
    """A file being uploaded in chunks; committed into an Artifact by a task."""

    size = models.BigIntegerField()
    completed = models.DateTimeField(null=True)

    class Meta:
        permissions = [("manage_roles_upload", "Can manage role assignments on upload")]


class UploadChunk(BaseModel):
    """One received byte range of an Upload, stored as its own file."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="chunks")
    offset = models.BigIntegerField()
    size = models.BigIntegerField()
    file = models.FileField(upload_to="upload/", max_length=255)
