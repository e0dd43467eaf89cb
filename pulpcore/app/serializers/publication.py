"""Serializers of publications, distributions and content guards."""

from django.conf import settings
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from pulpcore.app import util
from pulpcore.app.models import (
    ContentGuard,
    Distribution,
    Publication,
    Repository,
    RepositoryVersion,
)
from pulpcore.app.serializers.base import LabelsField, ModelSerializer, RelatedField
from pulpcore.app.serializers.contentguard import ContentGuardSerializer  # noqa: F401


class PublicationRepositoryField(RelatedField):
    """``repository``: written to publish a repository's latest version, read from the version."""

    def get_attribute(self, instance):
        version = getattr(instance, "repository_version", None)
        return version.repository if version is not None else None


class PublicationSerializer(ModelSerializer):
    """Base serializer of every publication type: what version it renders."""

    repository_version = RelatedField(types=RepositoryVersion, required=False)
    repository = PublicationRepositoryField(types=Repository, required=False)

    class Meta:
        model = Publication
        fields = ModelSerializer.Meta.fields + ("repository_version", "repository")

    def validate(self, data: dict) -> dict:
        repository = data.pop("repository", None)
        version = data.get("repository_version")
        if (repository is None) == (version is None):
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Either the 'repository' or 'repository_version' need to be specified "
                        "but not both."
                    ]
                }
            )
        if repository is not None:
            version = repository.latest_version()
            if version is None:
                raise serializers.ValidationError(
                    {"repository": ["The repository has no complete version to publish."]}
                )
        if not version.complete:
            raise serializers.ValidationError(
                {"repository_version": ["The repository version is not complete."]}
            )
        allowed = self._repository_types()
        if allowed and not isinstance(version.repository.cast(), allowed):
            raise serializers.ValidationError(
                {
                    "repository_version": [
                        f"A {self.Meta.model.__name__} cannot publish a "
                        f"'{version.repository.pulp_type}' repository."
                    ]
                }
            )
        data["repository_version"] = version
        return data

    def _repository_types(self) -> tuple:
        field = self.fields["repository"]
        types = field.types
        if types is None or types is Repository:
            return ()
        return types if isinstance(types, tuple) else (types,)


class BaseURLField(serializers.CharField):
    """``base_url``: where the content app serves this distribution."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, source="base_path")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        origin = (settings.CONTENT_ORIGIN or "").rstrip("/")
        prefix = settings.CONTENT_PATH_PREFIX
        return f"{origin}{prefix}{value}/"


def validate_base_path(value: str) -> str:
    """A relative path made of non-empty segments without ``.`` or ``..``."""
    value = value.strip()
    if value.startswith("/"):
        raise serializers.ValidationError("The base path must be relative (no leading '/').")
    value = value.rstrip("/")
    parts = value.split("/")
    if not value or any(p in ("", ".", "..") for p in parts):
        raise serializers.ValidationError(
            "The base path must consist of non-empty segments other than '.' and '..'."
        )
    if any(ch in value for ch in ("\\", "\x00", "?", "#")):
        raise serializers.ValidationError("The base path contains a forbidden character.")
    return value


class DistributionSerializer(ModelSerializer):
    """Base serializer of every distribution type: where and what to serve."""

    base_path = serializers.CharField(
        validators=[UniqueValidator(queryset=Distribution.objects.all())]
    )
    base_url = BaseURLField()
    content_guard = RelatedField(types=ContentGuard, required=False, allow_null=True)
    hidden = serializers.BooleanField(required=False, default=False)
    pulp_labels = LabelsField()
    name = serializers.CharField(validators=[UniqueValidator(queryset=Distribution.objects.all())])
    repository = RelatedField(types=Repository, required=False, allow_null=True)

    class Meta:
        model = Distribution
        fields = ModelSerializer.Meta.fields + (
            "base_path",
            "base_url",
            "content_guard",
            "hidden",
            "pulp_labels",
            "name",
            "repository",
        )

    def validate_base_path(self, value: str) -> str:
        value = validate_base_path(value)
        clash = Distribution.objects.filter(Distribution.overlapping(value))
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        other = clash.first()
        if other is not None:
            raise serializers.ValidationError(
                f"Overlaps with existing distribution '{other.name}' "
                f"(base_path '{other.base_path}')."
            )
        return value

    def validate_repository(self, repository):
        allowed = self._allowed_repository_types()
        if repository is not None and allowed and not isinstance(repository, allowed):
            raise serializers.ValidationError(
                f"A {self.Meta.model.__name__} cannot serve a '{repository.pulp_type}' repository."
            )
        return repository

    def _allowed_repository_types(self) -> tuple:
        types = self.fields["repository"].types
        if types is None or types is Repository:
            return ()
        return types if isinstance(types, tuple) else (types,)

    def validate(self, data: dict) -> dict:
        def final(name):
            if name in data:
                return data[name]
            return getattr(self.instance, name, None) if self.instance is not None else None

        sources = [n for n in ("publication", "repository", "repository_version") if final(n)]
        if len(sources) > 1:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        "Only one of the attributes 'repository' and 'publication' may be used "
                        "simultaneously."
                        if "repository_version" not in sources
                        else f"Only one of {', '.join(sources)} may be set."
                    ]
                }
            )
        return data


def distribution_href_list(publication: Publication) -> list[str]:
    """Hrefs of the distributions serving ``publication`` (for ``distributions`` fields)."""
    return [util.get_url(d) for d in Distribution.objects.filter(publication=publication)]
