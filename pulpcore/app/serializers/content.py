"""Serializers of content units: generic listings and the bases plugins build their types on.

Creating content is asynchronous: the API validates the request (and stores an uploaded file as
an Artifact), then a task re-runs the same serializer to create the unit and, when asked, adds it
to a new repository version. The task half lives in :mod:`pulpcore.app.tasks.content`.
"""

import os

from django.db import IntegrityError, transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pulpcore.app import util
from pulpcore.app.models import (
    Artifact,
    ArtifactMismatch,
    Content,
    ContentArtifact,
    Repository,
    Upload,
    new_temp_path,
)
from pulpcore.app.serializers.base import ModelSerializer, RelatedField


def content_artifacts(content) -> list[ContentArtifact]:
    """The unit's ContentArtifacts with their artifacts, by relative path, read once per unit.

    A listed unit is asked several times (its artifact, relative path and six digests): the list
    views attach every unit's rows in bulk (:func:`attach_artifacts`); a unit read alone is
    queried once and keeps its rows.
    """
    cached = content.__dict__.get("_pulp_artifacts")
    if cached is None:
        cached = list(
            content.contentartifact_set.select_related("artifact").order_by("relative_path")
        )
        content._pulp_artifacts = cached
    return cached


def attach_artifacts(units) -> None:
    """Give every unit of a page its ContentArtifacts and Artifacts in one query.

    Django's ``prefetch_related`` does the same but builds and clones a related queryset per
    unit, which cost a third of a 100-unit page's CPU; here the rows are grouped by hand.
    """
    pending = {unit.pk: unit for unit in units if "_pulp_artifacts" not in unit.__dict__}
    if not pending:
        return
    grouped: dict = {pk: [] for pk in pending}
    rows = (
        ContentArtifact.objects.filter(content_id__in=list(pending))
        .select_related("artifact")
        .order_by("relative_path")
    )
    content_field = ContentArtifact._meta.get_field("content")
    for ca in rows:
        content_field.set_cached_value(ca, pending[ca.content_id])
        grouped[ca.content_id].append(ca)
    for pk, unit in pending.items():
        unit._pulp_artifacts = grouped[pk]


class NoArtifactContentSerializer(ModelSerializer):
    """Content that has no files (metadata-only units)."""

    class Meta:
        model = Content
        fields = ModelSerializer.Meta.fields


class ArtifactsDictField(serializers.DictField):
    """``artifacts``: ``{relative_path: artifact href or null}`` of a content unit."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("child", serializers.CharField(allow_null=True))
        super().__init__(**kwargs)

    def to_representation(self, value) -> dict:
        out = {}
        for ca in content_artifacts(value):
            out[ca.relative_path] = util.get_url(ca.artifact) if ca.artifact_id else None
        return out


@extend_schema_field({"type": "object"})
class _ArtifactsField(ArtifactsDictField):
    pass


class MultipleArtifactContentSerializer(ModelSerializer):
    """Content with any number of files; also the shape of the generic ``content/`` list."""

    artifacts = _ArtifactsField()

    class Meta:
        model = Content
        fields = ModelSerializer.Meta.fields + ("artifacts",)


class SingleContentArtifactField(RelatedField):
    """``artifact``: the one file of a single-artifact unit (null while not downloaded)."""

    def get_attribute(self, instance):
        cas = content_artifacts(instance)
        return cas[0].artifact if cas else None


class SingleArtifactContentSerializer(ModelSerializer):
    """Content with exactly one file, given as an artifact href and stored at relative_path."""

    artifact = SingleContentArtifactField(types=Artifact, required=False)
    relative_path = serializers.CharField()

    class Meta:
        model = Content
        fields = ModelSerializer.Meta.fields + ("artifact", "relative_path")

    def validate_relative_path(self, value: str) -> str:
        validate_relative_path(value)
        return value


def validate_relative_path(path: str) -> None:
    """Refuse absolute paths and ``..`` so a unit can never point outside a distribution."""
    if path.startswith("/") or "\x00" in path:
        raise serializers.ValidationError("The relative path must not start with '/'.")
    parts = path.split("/")
    if any(p in ("..", ".") for p in parts) or "" in parts[:-1] or not parts[-1]:
        raise serializers.ValidationError(
            f"'{path}' is not a valid relative path (empty, '.' or '..' segments)."
        )


class SingleArtifactContentUploadSerializer(SingleArtifactContentSerializer):
    """Create a single-artifact unit from an artifact href, an uploaded file or a chunked upload,
    optionally adding it to a repository.

    Plugins override :meth:`content_fields` (model fields derived from the validated data and the
    artifact) and may override :meth:`retrieve` (find an identical existing unit).
    """

    file = serializers.FileField(write_only=True, required=False)
    upload = RelatedField(types=Upload, write_only=True, required=False)
    repository = RelatedField(types=Repository, write_only=True, required=False)

    class Meta(SingleArtifactContentSerializer.Meta):
        fields = SingleArtifactContentSerializer.Meta.fields + ("file", "upload", "repository")

    def validate_repository(self, repository):
        allowed = tuple(getattr(type(repository), "CONTENT_TYPES", []) or ())
        if allowed and self.Meta.model not in allowed:
            raise serializers.ValidationError(
                f"A '{repository.pulp_type}' repository cannot hold "
                f"'{self.Meta.model.get_pulp_type()}' content."
            )
        return repository

    def validate(self, data: dict) -> dict:
        given = [n for n in ("artifact", "file", "upload") if data.get(n) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": ["Exactly one of 'artifact', 'file' or 'upload' is required."]}
            )
        if data.get("upload") is not None:
            upload = data["upload"]
            received = sum(c.size for c in upload.chunks.all())
            if received != upload.size:
                raise serializers.ValidationError(
                    {"upload": [f"The upload is incomplete ({received} of {upload.size} bytes)."]}
                )
        return data

    # --- hooks for plugins ---------------------------------------------------------------------
    def content_fields(self, data: dict, artifact: Artifact) -> dict:
        """Model field values of the new unit (plugins override)."""
        return {"relative_path": data["relative_path"]}

    def retrieve(self, fields: dict):
        """An existing unit equal to the one requested, or None."""
        model = self.Meta.model
        keys = model.natural_key_fields
        if keys and all(k in fields for k in keys):
            return model.objects.filter(**{k: fields[k] for k in keys}).first()
        return None

    # --- API side -------------------------------------------------------------------------------
    def task_payload(self) -> dict:
        """JSON data for the task that creates the unit; stores an uploaded file first."""
        data = self.validated_data
        payload = {"relative_path": data["relative_path"]}
        for name in self.fields:
            field = self.fields[name]
            if name in ("file", "upload", "artifact", "relative_path", "repository"):
                continue
            if field.read_only or name not in self.initial_data:
                continue
            payload[name] = self.initial_data[name]
        if data.get("file") is not None:
            payload["artifact"] = util.get_url(artifact_from_uploaded_file(data["file"]))
        elif data.get("artifact") is not None:
            payload["artifact"] = util.get_url(data["artifact"])
        if data.get("repository") is not None:
            payload["repository"] = util.get_url(data["repository"])
        return payload

    # --- task side -----------------------------------------------------------------------------
    def create(self, validated_data: dict):
        artifact = validated_data["artifact"]
        fields = self.content_fields(validated_data, artifact)
        existing = self.retrieve(fields)
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                content = self.Meta.model.objects.create(**fields)
                ContentArtifact.objects.create(
                    content=content,
                    artifact=artifact,
                    relative_path=validated_data["relative_path"],
                )
        except IntegrityError:
            existing = self.retrieve(fields)
            if existing is None:
                raise
            return existing
        return content


class ContentChecksumSerializer(serializers.Serializer):
    """Read-only digests of a single-artifact unit's file."""

    md5 = serializers.SerializerMethodField()
    sha1 = serializers.SerializerMethodField()
    sha224 = serializers.SerializerMethodField()
    sha256 = serializers.SerializerMethodField()
    sha384 = serializers.SerializerMethodField()
    sha512 = serializers.SerializerMethodField()

    def _digest(self, obj, name: str) -> str | None:
        cas = content_artifacts(obj)
        artifact = cas[0].artifact if cas else None
        return getattr(artifact, name) if artifact is not None else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_md5(self, obj):
        return self._digest(obj, "md5")

    @extend_schema_field(OpenApiTypes.STR)
    def get_sha1(self, obj):
        return self._digest(obj, "sha1")

    @extend_schema_field(OpenApiTypes.STR)
    def get_sha224(self, obj):
        return self._digest(obj, "sha224")

    @extend_schema_field(OpenApiTypes.STR)
    def get_sha256(self, obj):
        return self._digest(obj, "sha256")

    @extend_schema_field(OpenApiTypes.STR)
    def get_sha384(self, obj):
        return self._digest(obj, "sha384")

    @extend_schema_field(OpenApiTypes.STR)
    def get_sha512(self, obj):
        return self._digest(obj, "sha512")


def store_artifact_file(path: str) -> Artifact:
    """Hash ``path`` and store it as an Artifact, reusing an existing one with the same sha256."""
    artifact = Artifact.init_and_validate(path)
    existing = Artifact.objects.filter(sha256=artifact.sha256).first()
    if existing is not None:
        os.unlink(path)
        return existing
    try:
        with transaction.atomic():
            return artifact.save_with_file(path)
    except IntegrityError:
        if os.path.exists(path):
            os.unlink(path)
        return Artifact.objects.get(sha256=artifact.sha256)


def artifact_from_uploaded_file(uploaded) -> Artifact:
    """Store a request's uploaded file as an Artifact (or find the one with the same bytes).

    Files received by ``HashingFileUploadHandler`` are already hashed in WORKING_DIRECTORY and
    are moved into storage; anything else is written out and hashed first.
    """
    hashes = getattr(uploaded, "hashes", None) or {}
    if hashes.get("sha256") and hasattr(uploaded, "temporary_file_path"):
        existing = Artifact.objects.filter(sha256=hashes["sha256"]).first()
        if existing is not None:
            return existing
        artifact = Artifact(size=uploaded.size, **hashes)
        try:
            with transaction.atomic():
                return artifact.save_with_file(uploaded.temporary_file_path())
        except IntegrityError:
            return Artifact.objects.get(sha256=hashes["sha256"])
    path = new_temp_path()
    with open(path, "wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    try:
        return store_artifact_file(path)
    except ArtifactMismatch as exc:
        raise serializers.ValidationError({"file": [str(exc)]})


def artifact_from_upload(upload: Upload) -> Artifact:
    """Join a chunked upload's pieces into an Artifact and delete the upload."""
    path = new_temp_path()
    with open(path, "wb") as out:
        for chunk in upload.chunks.order_by("offset"):
            out.seek(chunk.offset)
            with chunk.file.open("rb") as src:
                while block := src.read(1024 * 1024):
                    out.write(block)
    artifact = store_artifact_file(path)
    for chunk in upload.chunks.all():
        chunk.file.delete(save=False)
    upload.delete()
    return artifact
