"""Importers, imports and the synchronous import check."""

import json
import os

from rest_framework import serializers

from pulpcore.app.models import PulpImport, PulpImporter
from pulpcore.app.serializers.base import ModelSerializer, RelatedField
from pulpcore.app.serializers.exporter import ObjectField, validate_allowed_path


class PulpImporterSerializer(ModelSerializer):
    """A PulpImporter; ``repo_mapping`` maps source repository names to local ones."""

    name = serializers.CharField()
    repo_mapping = serializers.DictField(child=serializers.CharField(), required=False)

    class Meta:
        model = PulpImporter
        fields = ModelSerializer.Meta.fields + ("name", "repo_mapping")

    def validate_name(self, value: str) -> str:
        qs = PulpImporter.objects.filter(name=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError("An importer with this name already exists.")
        return value


def validate_import_file(value: str, suffix: str | None = None) -> str:
    """An existing, readable file inside ALLOWED_IMPORT_PATHS."""
    validate_allowed_path(value, "ALLOWED_IMPORT_PATHS")
    if not os.path.isfile(value):
        raise serializers.ValidationError(f"The file '{value}' does not exist.")
    if not os.access(value, os.R_OK):
        raise serializers.ValidationError(f"The file '{value}' cannot be read.")
    if suffix and not value.endswith(suffix):
        raise serializers.ValidationError(f"The file '{value}' must end with '{suffix}'.")
    return value


def toc_problems(toc_path: str) -> list[str]:
    """What is wrong with a table of contents, without hashing its pieces (that is the task's)."""
    try:
        with open(toc_path, "rb") as fh:
            toc = json.load(fh)
        files = toc["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"The table of contents cannot be read: {exc}."]
    if not isinstance(files, dict) or not files:
        return ["The table of contents lists no files."]
    directory = os.path.dirname(toc_path)
    return [
        f"The export piece {name} listed in the table of contents is missing."
        for name in sorted(files)
        if os.path.basename(name) != name or not os.path.isfile(os.path.join(directory, name))
    ]


class PulpImportSerializer(serializers.Serializer):
    """What to import: a tarball (``path``) or the table of contents of a (chunked) export."""

    path = serializers.CharField(required=False)
    toc = serializers.CharField(required=False)
    create_repositories = serializers.BooleanField(default=False)

    class Meta:
        ref_name = "PulpImport"

    def validate_path(self, value: str) -> str:
        return validate_import_file(value)

    def validate_toc(self, value: str) -> str:
        return validate_import_file(value, suffix="toc.json")

    def validate(self, data):
        if bool(data.get("path")) == bool(data.get("toc")):
            raise serializers.ValidationError("Give exactly one of 'path' or 'toc'.")
        return data


class ImportSerializer(ModelSerializer):
    """One import run."""

    task = RelatedField()
    params = ObjectField()

    class Meta:
        model = PulpImport
        fields = ModelSerializer.Meta.fields + ("task", "params")


class EvaluationSerializer(serializers.Serializer):
    """Whether one input of an import check is valid, and why not."""

    context = serializers.CharField()
    is_valid = serializers.BooleanField()
    messages = serializers.ListField(child=serializers.CharField())

    class Meta:
        ref_name = "EvaluationResponse"


class PulpImportCheckSerializer(serializers.Serializer):
    """Paths (and a repo_mapping JSON string) to check before starting an import."""

    path = serializers.CharField(required=False)
    toc = serializers.CharField(required=False)
    repo_mapping = serializers.CharField(required=False)

    class Meta:
        ref_name = "PulpImportCheck"

    def evaluate(self) -> dict:
        data, result = self.validated_data, {}
        for key, suffix in (("path", None), ("toc", "toc.json")):
            if key in data:
                try:
                    validate_import_file(data[key], suffix)
                    messages = toc_problems(data[key]) if key == "toc" else []
                except serializers.ValidationError as exc:
                    messages = [str(m) for m in exc.detail]
                result[key] = {"context": data[key], "is_valid": not messages, "messages": messages}
        if "repo_mapping" in data:
            messages = []
            try:
                mapping = json.loads(data["repo_mapping"])
                if not isinstance(mapping, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
                ):
                    messages.append("repo_mapping must map source names to repository names.")
            except ValueError as exc:
                messages.append(f"repo_mapping is not valid JSON: {exc}.")
            result["repo_mapping"] = {
                "context": data["repo_mapping"],
                "is_valid": not messages,
                "messages": messages,
            }
        return result


class PulpImportCheckResponseSerializer(serializers.Serializer):
    path = EvaluationSerializer(required=False, help_text="Is the export path valid?")
    toc = EvaluationSerializer(required=False, help_text="Is the table of contents valid?")
    repo_mapping = EvaluationSerializer(required=False, help_text="Is repo_mapping valid?")

    class Meta:
        ref_name = "PulpImportCheckResponse"
