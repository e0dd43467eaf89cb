"""``Artifact`` / ``ArtifactResponse``: a multipart upload verified against declared checksums."""

import os

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework import serializers
from rest_framework.settings import api_settings

from pulpcore.app.files import MultiHasher
from pulpcore.app.models import Artifact
from pulpcore.app.models.content import CHECKSUM_NAMES
from pulpcore.app.serializers.base import ModelSerializer
from pulpcore.app.storage import artifact_relpath, delete_stored, local_path, stored_exists


def _digests_of(upload) -> tuple[dict[str, str], int]:
    """Digests and size of an uploaded file: precomputed by the hashing upload handler if it ran.

    Files that reached us some other way (e.g. in-memory uploads outside the artifacts view) are
    hashed here in one pass.
    """
    hashes = getattr(upload, "hashes", None)
    if hashes and set(settings.ALLOWED_CONTENT_CHECKSUMS) <= set(hashes):
        return dict(hashes), upload.size
    hasher = MultiHasher(settings.ALLOWED_CONTENT_CHECKSUMS)
    upload.seek(0)
    for chunk in upload.chunks():
        hasher.update(chunk)
    upload.seek(0)
    return hasher.digests(), hasher.size


def duplicate_message(sha256: str) -> str:
    return f"Artifact with sha256 checksum of '{sha256}' already exists."


class ArtifactSerializer(ModelSerializer):
    """Upload (write) and describe (read) an artifact.

    On write only ``file`` is required; ``size`` and any checksum given are verified against the
    bytes received. On read ``file`` is the storage-relative name (``artifact/ab/cdef…``).
    """

    file = serializers.FileField(use_url=False)
    size = serializers.IntegerField(required=False)
    md5 = serializers.CharField(required=False, allow_null=True)
    sha1 = serializers.CharField(required=False, allow_null=True)
    sha224 = serializers.CharField(required=False, allow_null=True)
    sha256 = serializers.CharField(required=False, allow_null=True)
    sha384 = serializers.CharField(required=False, allow_null=True)
    sha512 = serializers.CharField(required=False, allow_null=True)

    class Meta:
        model = Artifact
        fields = ModelSerializer.Meta.fields + ("file", "size", *CHECKSUM_NAMES)

    def validate(self, data: dict) -> dict:
        upload = data["file"]
        allowed = set(settings.ALLOWED_CONTENT_CHECKSUMS)
        forbidden = {
            name: [
                f"Checksum algorithm '{name}' is not allowed on this Pulp instance; "
                f"allowed: {', '.join(settings.ALLOWED_CONTENT_CHECKSUMS)}."
            ]
            for name in CHECKSUM_NAMES
            if data.get(name) is not None and name not in allowed
        }
        if forbidden:
            raise serializers.ValidationError(forbidden)

        digests, size = _digests_of(upload)
        errors = {}
        if data.get("size") is not None and data["size"] != size:
            errors["size"] = [
                f"The size of the uploaded file ({size} bytes) does not match the given size "
                f"({data['size']} bytes)."
            ]
        for name in CHECKSUM_NAMES:
            given = data.get(name)
            if given is not None and given.strip().lower() != digests[name]:
                errors[name] = [
                    f"The {name} checksum of the uploaded file ({digests[name]}) does not match "
                    f"the given value ({given})."
                ]
        if errors:
            raise serializers.ValidationError(errors)

        if Artifact.objects.filter(sha256=digests["sha256"]).exists():
            raise serializers.ValidationError(duplicate_message(digests["sha256"]))

        verified = {name: digests.get(name) for name in CHECKSUM_NAMES}
        return {"file": upload, "size": size, **verified}

    def create(self, validated_data: dict) -> Artifact:
        """Move the uploaded file into content-addressed storage and save the row, or neither.

        Identical uploads may race: whichever row commits first owns the file, the others answer
        400 and never remove a file at the destination that a row may point at.
        """
        upload = validated_data.pop("file")
        artifact = Artifact(**validated_data)
        name = artifact_relpath(artifact.sha256)
        existed_before = stored_exists(name)
        source, own_copy = _temporary_path(upload)
        try:
            dest = local_path(name)
            if (
                dest is not None
                and existed_before
                and not Artifact.objects.filter(sha256=artifact.sha256).exists()
            ):
                # A file with no row (left by a crash, or by a racing identical upload) may hold
                # anything: atomically put the bytes we just verified in its place. (An object
                # store's upload always replaces the object.)
                try:
                    os.chmod(source, 0o644)  # as storage leaves artifacts (web server reads)
                    os.replace(source, dest)
                    source, own_copy = dest, False
                except OSError:
                    pass  # another filesystem: storage keeps the existing file
            with transaction.atomic():
                artifact.save_with_file(source)
        except Exception as exc:
            if own_copy and os.path.exists(source):
                os.unlink(source)  # our copy of an in-memory upload: nobody else removes it
            owner = Artifact.objects.filter(sha256=artifact.sha256).exists()
            if not existed_before and not owner:
                delete_stored(name)  # we placed it (if it got that far) and no row refers to it
            if isinstance(exc, IntegrityError) and owner:
                # Lost a race with an identical upload: same answer as the check in validate().
                raise serializers.ValidationError(
                    {api_settings.NON_FIELD_ERRORS_KEY: [duplicate_message(artifact.sha256)]}
                )
            raise
        return artifact


def _temporary_path(upload) -> tuple[str, bool]:
    """A path in WORKING_DIRECTORY with the upload's bytes, and whether we made it (a copy)."""
    if hasattr(upload, "temporary_file_path"):
        return upload.temporary_file_path(), False
    from pulpcore.app.models.content import new_temp_path

    path = new_temp_path(".upload")
    with open(path, "wb") as out:
        upload.seek(0)
        for chunk in upload.chunks():
            out.write(chunk)
    return path, True
