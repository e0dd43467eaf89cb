"""Exporters and exports: validation happens here, before any task is dispatched."""

import os
import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pulpcore.app.models import (
    FilesystemExport,
    FilesystemExporter,
    Publication,
    PulpExport,
    PulpExporter,
    Repository,
    RepositoryVersion,
    Task,
)
from pulpcore.app.serializers.base import ModelSerializer, RelatedField

CHUNK_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
MAX_CHUNK = 1024**4


def path_is_allowed(path: str, allowed: list[str]) -> bool:
    """True when ``path`` (after resolving symlinks and ``..``) lies inside one of ``allowed``."""
    real = os.path.realpath(path)
    for root in allowed:
        root_real = os.path.realpath(root)
        if real == root_real or real.startswith(root_real.rstrip("/") + "/"):
            return True
    return False


# Read at call time so a test's or an operator's override is seen.
ALLOWED_PATH_SETTINGS = {
    "ALLOWED_EXPORT_PATHS": lambda: settings.ALLOWED_EXPORT_PATHS,
    "ALLOWED_IMPORT_PATHS": lambda: settings.ALLOWED_IMPORT_PATHS,
}


def validate_allowed_path(path: str, setting: str) -> str:
    """An absolute path inside the directories listed in ``settings.<setting>``."""
    if not os.path.isabs(path):
        raise serializers.ValidationError(f"The path '{path}' must be absolute.")
    allowed = list(ALLOWED_PATH_SETTINGS[setting]() or [])
    if not path_is_allowed(path, allowed):
        raise serializers.ValidationError(
            f"The path '{path}' is not inside any of the directories listed in {setting}"
            f" ({', '.join(allowed) or 'none are configured'})."
        )
    return path


def parse_chunk_size(value: str) -> int:
    """``"1MB"``, ``"512KB"``, ``"2GB"`` or a plain byte count → bytes (1 KB = 1024 B)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?B)?\s*", str(value).upper())
    if not match:
        raise serializers.ValidationError(
            f"'{value}' is not a size; use a number of bytes or units B, KB, MB, GB or TB."
        )
    size = int(match.group(1)) * CHUNK_UNITS[match.group(2) or "B"]
    if size <= 0 or size > MAX_CHUNK:
        raise serializers.ValidationError("The chunk size must be between 1 byte and 1 TB.")
    return size


@extend_schema_field({"type": "object"})
class ObjectField(serializers.JSONField):
    """A JSON object (parameters, file lists), documented as an object as Pulp does."""


class RepositoryHrefsField(serializers.ListField):
    """A list of repository hrefs, read from the exporter's many-to-many relation."""

    def __init__(self, **kwargs):
        super().__init__(child=RelatedField(types=Repository), **kwargs)

    def to_representation(self, data) -> list[str]:
        items = data.all() if hasattr(data, "all") else data
        # Master rows map to their detail endpoint by pulp_type: no query per repository.
        return [self.child.to_representation(repo) for repo in items]


class ExporterPathMixin:
    def validate_path(self, value: str) -> str:
        return validate_allowed_path(value, "ALLOWED_EXPORT_PATHS")


class PulpExporterSerializer(ExporterPathMixin, ModelSerializer):
    """A PulpExporter: where the tarballs go and which repositories they hold."""

    name = serializers.CharField()
    path = serializers.CharField()
    repositories = RepositoryHrefsField()
    last_export = RelatedField(types=PulpExport, required=False, allow_null=True)

    class Meta:
        model = PulpExporter
        fields = ModelSerializer.Meta.fields + ("name", "path", "repositories", "last_export")

    def validate_name(self, value: str) -> str:
        qs = PulpExporter.objects.filter(name=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("An exporter with this name already exists.")
        return value

    def create(self, validated_data):
        repositories = validated_data.pop("repositories", [])
        exporter = PulpExporter.objects.create(**validated_data)
        exporter.repositories.set(repositories)
        return exporter

    def update(self, instance, validated_data):
        repositories = validated_data.pop("repositories", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        instance.save()
        if repositories is not None:
            instance.repositories.set(repositories)
        return instance


class PulpExportSerializer(ModelSerializer):
    """One export run; the write-only fields say what to export."""

    task = RelatedField(types=Task, required=False, allow_null=True)
    exported_resources = serializers.ListField(child=serializers.URLField(), read_only=True)
    params = ObjectField(read_only=True)
    output_file_info = ObjectField(read_only=True)
    toc_info = ObjectField(read_only=True)
    full = serializers.BooleanField(default=True, write_only=True)
    dry_run = serializers.BooleanField(default=False, write_only=True)
    versions = serializers.ListField(
        child=RelatedField(types=RepositoryVersion, write_only=True),
        required=False,
        write_only=True,
    )
    chunk_size = serializers.CharField(required=False, write_only=True)
    start_versions = serializers.ListField(
        child=RelatedField(types=RepositoryVersion, write_only=True),
        required=False,
        write_only=True,
    )

    class Meta:
        model = PulpExport
        fields = ModelSerializer.Meta.fields + (
            "task",
            "exported_resources",
            "params",
            "output_file_info",
            "toc_info",
            "full",
            "dry_run",
            "versions",
            "chunk_size",
            "start_versions",
        )

    def validate_chunk_size(self, value: str) -> int:
        return parse_chunk_size(value)

    def validate(self, data):
        exporter: PulpExporter = self.context["exporter"]
        repo_ids = set(exporter.repositories.values_list("pk", flat=True))
        if not repo_ids:
            raise serializers.ValidationError(
                {"repositories": ["The exporter has no repositories to export."]}
            )
        for key in ("versions", "start_versions"):
            chosen = data.get(key) or []
            repos = [v.repository_id for v in chosen]
            outside = [v for v in chosen if v.repository_id not in repo_ids]
            if outside:
                raise serializers.ValidationError(
                    {key: ["Every version must belong to one of the exporter's repositories."]}
                )
            if len(repos) != len(set(repos)):
                raise serializers.ValidationError(
                    {key: ["Give at most one version per repository."]}
                )
        if data.get("versions") and len(data["versions"]) != len(repo_ids):
            raise serializers.ValidationError(
                {"versions": ["Give one version for each of the exporter's repositories."]}
            )
        if not data.get("full", True) and not data.get("start_versions"):
            if exporter.last_export_id is None:
                raise serializers.ValidationError(
                    {
                        "full": [
                            "An incremental export needs start_versions or a previous export"
                            " of this exporter to start from."
                        ]
                    }
                )
        if data.get("start_versions") and data.get("full", True):
            raise serializers.ValidationError(
                {"start_versions": ["start_versions only applies when full is false."]}
            )
        return data


class FilesystemExporterSerializer(ExporterPathMixin, ModelSerializer):
    """A FilesystemExporter: a directory and how files get there."""

    name = serializers.CharField()
    path = serializers.CharField()
    method = serializers.ChoiceField(
        choices=FilesystemExporter.METHOD_CHOICES, default=FilesystemExporter.WRITE
    )

    class Meta:
        model = FilesystemExporter
        fields = ModelSerializer.Meta.fields + ("name", "path", "method")

    def validate_name(self, value: str) -> str:
        qs = FilesystemExporter.objects.filter(name=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("An exporter with this name already exists.")
        return value


class FilesystemExportSerializer(ModelSerializer):
    """One filesystem export: a publication, or a repository version (optionally incremental)."""

    task = RelatedField(types=Task, required=False, allow_null=True)
    exported_resources = serializers.ListField(child=serializers.URLField(), read_only=True)
    params = ObjectField(read_only=True)
    publication = RelatedField(types=Publication, required=False, write_only=True)
    repository_version = RelatedField(types=RepositoryVersion, required=False, write_only=True)
    start_repository_version = RelatedField(
        types=RepositoryVersion, required=False, write_only=True
    )

    class Meta:
        model = FilesystemExport
        fields = ModelSerializer.Meta.fields + (
            "task",
            "exported_resources",
            "params",
            "publication",
            "repository_version",
            "start_repository_version",
        )

    def validate(self, data):
        publication, version = data.get("publication"), data.get("repository_version")
        if bool(publication) == bool(version):
            raise serializers.ValidationError(
                "Give either a publication or a repository_version to export, not both."
            )
        start = data.get("start_repository_version")
        if start is not None:
            target = version or publication.repository_version
            if start.repository_id != target.repository_id:
                raise serializers.ValidationError(
                    {
                        "start_repository_version": [
                            "The start version must belong to the exported repository."
                        ]
                    }
                )
        return data
