"""Task: turn a complete chunked upload into an Artifact after checking its sha256."""

import os

from django.db import IntegrityError, transaction
from django.utils import timezone

from pulpcore.app.files import MultiHasher
from pulpcore.app.models import Artifact, Upload
from pulpcore.app.models.content import new_temp_path
from pulpcore.tasking.context import record_created


class UploadError(ValueError):
    """The upload cannot become an artifact (missing bytes or a checksum mismatch)."""


def assemble(upload: Upload, path: str) -> tuple[dict, int]:
    """Write the chunks in offset order into ``path``; return (digests, size)."""
    hasher = MultiHasher()
    position = 0
    with open(path, "wb") as out:
        for chunk in upload.chunks.order_by("offset", "pulp_created"):
            if chunk.offset > position:
                raise UploadError(
                    f"The upload is missing bytes {position}-{chunk.offset - 1}; "
                    "upload them before committing."
                )
            skip = position - chunk.offset
            if skip >= chunk.size:
                continue  # fully covered by earlier chunks
            with chunk.file.open("rb") as src:
                src.seek(skip)
                while block := src.read(1024 * 1024):
                    out.write(block)
                    hasher.update(block)
            position = chunk.offset + chunk.size
    if position != upload.size:
        raise UploadError(
            f"The upload has {position} of {upload.size} bytes; upload the rest before committing."
        )
    return hasher.digests(), position


def commit(upload_pk: str, sha256: str) -> None:
    """Assemble, verify the sha256, store the artifact (or reuse an identical one).

    The upload is removed once its bytes are stored.
    """
    upload = Upload.objects.get(pk=upload_pk)
    path = new_temp_path(".commit")
    try:
        digests, size = assemble(upload, path)
        if digests["sha256"] != sha256.lower():
            raise UploadError(
                f"The sha256 of the uploaded file ({digests['sha256']}) does not match the "
                f"expected {sha256}; nothing was stored."
            )
        existing = Artifact.objects.filter(sha256=digests["sha256"]).first()
        if existing is not None:
            Artifact.objects.filter(pk=existing.pk).update(timestamp_of_interest=timezone.now())
            artifact = existing
        else:
            artifact = Artifact(size=size, **digests)
            try:
                with transaction.atomic():
                    artifact.save_with_file(path)
            except IntegrityError:
                artifact = Artifact.objects.get(sha256=digests["sha256"])
        record_created(artifact)
        delete_upload(upload)
    finally:
        if os.path.exists(path):
            os.unlink(path)


def delete_upload(upload: Upload) -> None:
    """Remove an upload with its chunk files."""
    files = [c.file for c in upload.chunks.all()]
    upload.delete()
    for f in files:
        try:
            f.storage.delete(f.name)
        except OSError:
            pass
