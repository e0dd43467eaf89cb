"""Serializers of repositories, their versions and the repository actions' bodies."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from pulpcore.app import util
from pulpcore.app.models import Content, Remote, Repository, RepositoryVersion
from pulpcore.app.queries import versions as version_queries
from pulpcore.app.serializers.base import LabelsField, ModelSerializer, RelatedField

# Remote serializers live in serializers/remote.py; these names stay importable from here.
from pulpcore.app.serializers.remote import (  # noqa: F401
    SECRET_FIELDS,
    HeadersField,
    HiddenFieldsField,
    RemoteSerializer,
)


@extend_schema_field(OpenApiTypes.URI)
class VersionsHrefField(serializers.Field):
    """``versions_href``: where the repository's versions are listed."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return f"{util.get_url(value)}versions/"


@extend_schema_field(OpenApiTypes.URI)
class LatestVersionHrefField(serializers.Field):
    """``latest_version_href``: the newest complete version (None before the first exists)."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, source="*")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:
        if hasattr(value, "latest_number"):  # annotated by the list querysets
            number = value.latest_number
            return None if number is None else f"{util.get_url(value)}versions/{number}/"
        latest = value.latest_version()
        return util.get_url(latest) if latest is not None else None


class RepositorySerializer(ModelSerializer):
    """Base serializer of every repository type; plugins add their own fields."""

    versions_href = VersionsHrefField()
    pulp_labels = LabelsField()
    latest_version_href = LatestVersionHrefField()
    name = serializers.CharField(validators=[UniqueValidator(queryset=Repository.objects.all())])
    description = serializers.CharField(required=False, allow_null=True)
    retain_repo_versions = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    remote = RelatedField(types=Remote, required=False, allow_null=True)

    class Meta:
        model = Repository
        fields = ModelSerializer.Meta.fields + (
            "versions_href",
            "pulp_labels",
            "latest_version_href",
            "name",
            "description",
            "retain_repo_versions",
            "remote",
        )

    def update(self, instance, validated_data):
        """Apply the change; a lowered ``retain_repo_versions`` takes effect right away."""
        instance = super().update(instance, validated_data)
        if "retain_repo_versions" in validated_data:
            instance.cleanup_old_versions()
        return instance

    def validate_remote(self, remote):
        allowed = getattr(self.Meta.model, "REMOTE_TYPES", None)
        if remote is not None and allowed and not isinstance(remote, tuple(allowed)):
            names = ", ".join(m.get_pulp_type() for m in allowed)
            raise serializers.ValidationError(
                f"Type for Remote '{util.get_url(remote)}' does not match Repository "
                f"'{self.Meta.model.get_pulp_type()}' (expected {names})."
            )
        return remote


@extend_schema_field({"type": "object", "additionalProperties": {"type": "object"}})
class _SummaryDictField(serializers.DictField):
    """``{pulp_type: {"count": n, "href": list_url}}``."""


def _listing_href(filter_name: str, pulp_type: str, version_href: str) -> str:
    model = next((m for m in Content.detail_models() if m.get_pulp_type() == pulp_type), None)
    viewset = util.VIEWSET_FOR_MODEL.get(model) if model else None
    base = f"{util.api_root()}{viewset.url_prefix()}/" if viewset else f"{util.api_root()}content/"
    return f"{base}?{filter_name}={version_href}"


def content_summaries(versions: list[RepositoryVersion]) -> dict:
    """Content summaries (counts with list hrefs) of many versions in three queries."""
    counts = version_queries.content_counts(v.pk for v in versions)
    filters = {
        "added": "repository_version_added",
        "removed": "repository_version_removed",
        "present": "repository_version",
    }
    out = {}
    for version in versions:
        href = util.get_url(version)
        out[version.pk] = {
            key: {
                t: {"count": n, "href": _listing_href(filters[key], t, href)}
                for t, n in sorted(by_type.items())
            }
            for key, by_type in counts[version.pk].items()
        }
    return out


class ContentSummarySerializer(serializers.Serializer):
    """Per content type: how many units a version added, removed and holds, with list hrefs."""

    added = _SummaryDictField()
    removed = _SummaryDictField()
    present = _SummaryDictField()

    class Meta:
        ref_name = "ContentSummary"

    def to_representation(self, instance) -> dict:
        cached = getattr(instance, "_content_summary", None)
        if cached is not None:
            return cached
        return content_summaries([instance])[instance.pk]


class RepositoryVersionListSerializer(serializers.ListSerializer):
    """Computes the content summaries of a whole page at once."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        summaries = content_summaries(items)
        for item in items:
            item._content_summary = summaries[item.pk]
        return super().to_representation(items)


class RepositoryVersionSerializer(ModelSerializer):
    """A repository version: its number, base version and content summary."""

    number = serializers.IntegerField(read_only=True)
    repository = RelatedField(read_only=True)
    base_version = RelatedField(types=RepositoryVersion, required=False)
    content_summary = ContentSummarySerializer(source="*", read_only=True)

    class Meta:
        model = RepositoryVersion
        list_serializer_class = RepositoryVersionListSerializer
        fields = ModelSerializer.Meta.fields + (
            "number",
            "repository",
            "base_version",
            "content_summary",
        )


class RepositoryAddRemoveContentSerializer(serializers.Serializer):
    """Body of ``modify/``: content hrefs to add and remove, and the version to start from."""

    add_content_units = serializers.ListField(
        child=serializers.CharField(min_length=1), required=False
    )
    remove_content_units = serializers.ListField(
        child=serializers.CharField(min_length=1), required=False
    )
    base_version = RelatedField(types=RepositoryVersion, required=False)

    class Meta:
        ref_name = "RepositoryAddRemoveContent"

    def _resolve(self, hrefs: list[str], field: str) -> list:
        """Content pks of ``hrefs`` (parsed from the URLs, then checked in one query)."""
        from pulpcore.app.filters import href_pk

        repository = self.context["repository"]
        allowed = {m.get_pulp_type() for m in getattr(type(repository), "CONTENT_TYPES", [])}
        wanted, errors = {}, []
        for href in hrefs:
            try:
                wanted[str(href_pk(href, Content))] = href
            except util.HrefError as exc:
                errors.append(str(exc))
        found = {
            str(pk): pulp_type
            for pk, pulp_type in Content.objects.filter(pk__in=list(wanted)).values_list(
                "pk", "pulp_type"
            )
        }
        for pk, href in wanted.items():
            pulp_type = found.get(pk)
            if pulp_type is None:
                errors.append(f"URI {href} not found.")
            elif allowed and pulp_type not in allowed:
                errors.append(
                    f"Content {href} of type '{pulp_type}' cannot be stored in a "
                    f"'{repository.pulp_type}' repository."
                )
        if errors:
            raise serializers.ValidationError({field: errors})
        return list(wanted)

    def validate(self, data: dict) -> dict:
        repository = self.context["repository"]
        add = data.get("add_content_units") or []
        remove = data.get("remove_content_units") or []
        if "*" in add:
            raise serializers.ValidationError({"add_content_units": ["'*' is only for removal."]})
        out: dict = {"add_content_units": self._resolve(add, "add_content_units")}
        if remove == ["*"]:
            out["remove_content_units"] = ["*"]
        elif "*" in remove:
            raise serializers.ValidationError(
                {"remove_content_units": ["'*' must be the only item when given."]}
            )
        else:
            out["remove_content_units"] = self._resolve(remove, "remove_content_units")
        base = data.get("base_version")
        if base is not None:
            if base.repository_id != repository.pk:
                raise serializers.ValidationError(
                    {"base_version": ["The base version must belong to the same repository."]}
                )
            if not base.complete:
                raise serializers.ValidationError(
                    {"base_version": ["The base version is not complete."]}
                )
            out["base_version"] = str(base.pk)
        return out


class RepositorySyncURLSerializer(serializers.Serializer):
    """Body of ``sync/``: the remote (defaults to the repository's) and mirror mode."""

    remote = RelatedField(types=Remote, required=False)
    mirror = serializers.BooleanField(required=False, default=False)

    class Meta:
        ref_name = "RepositorySyncURL"

    def validate(self, data: dict) -> dict:
        repository = self.context["repository"]
        remote = data.get("remote") or (repository.remote.cast() if repository.remote else None)
        if remote is None:
            raise serializers.ValidationError(
                {"remote": ["A remote must be specified here or on the repository."]}
            )
        allowed = tuple(getattr(type(repository), "REMOTE_TYPES", []) or [Remote])
        if not isinstance(remote, allowed):
            raise serializers.ValidationError(
                {
                    "remote": [
                        f"Type for Remote '{util.get_url(remote)}' does not match Repository "
                        f"'{repository.pulp_type}'."
                    ]
                }
            )
        data["remote"] = remote
        return data


class RepairSerializer(serializers.Serializer):
    """Body of ``repair/``: whether to hash every file or only check presence and size."""

    verify_checksums = serializers.BooleanField(required=False, default=True)

    class Meta:
        ref_name = "Repair"


class SetLabelSerializer(serializers.Serializer):
    """Body and answer of ``set_label/``."""

    key = serializers.RegexField(r"^[-a-zA-Z0-9_]+$")
    value = serializers.CharField(allow_null=True, allow_blank=True)

    class Meta:
        ref_name = "SetLabel"


class UnsetLabelSerializer(serializers.Serializer):
    """Body of ``unset_label/``; the answer adds the value that was removed."""

    key = serializers.RegexField(r"^[-a-zA-Z0-9_]+$")
    value = serializers.CharField(read_only=True)

    class Meta:
        ref_name = "UnsetLabel"


__all__ = [
    "ContentSummarySerializer",
    "HiddenFieldsField",
    "LatestVersionHrefField",
    "RemoteSerializer",
    "RepairSerializer",
    "RepositoryAddRemoveContentSerializer",
    "RepositorySerializer",
    "RepositorySyncURLSerializer",
    "RepositoryVersionSerializer",
    "SetLabelSerializer",
    "UnsetLabelSerializer",
    "VersionsHrefField",
]
