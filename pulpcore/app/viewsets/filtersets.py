"""Filtersets of the content, repository, remote, publication and distribution endpoints.

Plugins reuse them through :mod:`pulpcore.plugin.filters`. Every filter that takes an href
resolves it with :func:`pulpcore.app.util.resolve_href`, so a malformed or foreign href is a 400
with a readable message instead of an empty list.
"""

from datetime import timedelta

import django_filters
from django.db import models
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from pulpcore.app import util
from pulpcore.app.filters import BaseFilterSet
from pulpcore.app.models import (
    Content,
    ContentGuard,
    Distribution,
    MasterModel,
    Publication,
    Remote,
    Repository,
    RepositoryContent,
    RepositoryVersion,
)

NAME_FILTER_OPTIONS = [
    "exact",
    "iexact",
    "in",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "regex",
    "iregex",
]
NUMBER_LOOKUPS = ["exact", "gt", "gte", "lt", "lte", "range"]
DATETIME_LOOKUPS = ["exact", "gt", "gte", "lt", "lte", "range"]


def ordering_fields(model: type[models.Model]) -> list[str]:
    """Every plain (non-relation) concrete field of ``model`` plus ``pk``: ``ordering`` values."""
    names = ["pk"]
    for field in model._meta.concrete_fields:
        if field.is_relation:
            continue
        names.append(field.name)
    return sorted(set(names))


def ordering_filter(model: type[models.Model]) -> django_filters.OrderingFilter:
    """``?ordering=-name,pulp_created`` over the model's own fields."""
    return django_filters.OrderingFilter(fields=[(n, n) for n in ordering_fields(model)])


def resolve_or_400(href: str, expected, field: str):
    """Resolve ``href`` or answer 400 naming the query parameter."""
    try:
        return util.resolve_href(href, expected)
    except util.HrefError as exc:
        raise ValidationError({field: [str(exc)]})


# Types the 3.49 API names in its ``pulp_type`` enums that are not (yet) detail models here; they
# stay valid filter values (matching nothing) so clients built against that document keep working.
DOCUMENTED_TYPES: dict[str, tuple[str, ...]] = {
    "Content": ("core.publishedmetadata",),
    "Distribution": ("core.artifact",),
    "ContentGuard": (
        "certguard.rhsm",
        "certguard.x509",
        "core.composite",
        "core.content_redirect",
        "core.header",
        "core.rbac",
    ),
}


def _type_choices(master: type[MasterModel]) -> list[tuple[str, str]]:
    """Installed detail types of ``master`` (viewsets load after every app's models)."""
    names = {m.get_pulp_type() for m in master.detail_models()}
    names.update(DOCUMENTED_TYPES.get(master.__name__, ()))
    return [(n, n) for n in sorted(names)]


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """A comma-separated list of allowed values."""


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of strings."""


class NumberInRangeFilter(django_filters.BaseRangeFilter, django_filters.NumberFilter):
    """``a,b``: both ends included."""


class PulpTypeFilterMixin:
    """Adds ``pulp_type`` / ``pulp_type__in`` limited to the detail types of a master model."""

    @classmethod
    def type_filters(cls, master: type[MasterModel]) -> dict:
        return {
            "pulp_type": django_filters.ChoiceFilter(
                field_name="pulp_type", choices=_type_choices(master)
            ),
            "pulp_type__in": ChoiceInFilter(
                field_name="pulp_type", lookup_expr="in", choices=_type_choices(master)
            ),
        }


class LabelSelectFilter(django_filters.CharFilter):
    """``pulp_label_select``: comma-separated ``key=value``, ``key!=value``, ``key~part``, ``key``,
    ``!key`` terms, all of which must hold."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        for raw in value.split(","):
            term = raw.strip()
            if not term:
                raise ValidationError({"pulp_label_select": ["Empty label selector term."]})
            if "!=" in term:
                key, val = (p.strip() for p in term.split("!=", 1))
                qs = qs.filter(pulp_labels__has_key=key).exclude(pulp_labels__contains={key: val})
            elif "=" in term:
                key, val = (p.strip() for p in term.split("=", 1))
                qs = qs.filter(pulp_labels__contains={key: val})
            elif "~" in term:
                key, val = (p.strip() for p in term.split("~", 1))
                qs = qs.filter(**{f"pulp_labels__{key}__icontains": val})
            elif term.startswith("!"):
                qs = qs.exclude(pulp_labels__has_key=term[1:].strip())
            else:
                qs = qs.filter(pulp_labels__has_key=term)
        return qs


class RepositoryVersionContentFilter(django_filters.CharFilter):
    """Content present in (or added to / removed from) the repository version named by href."""

    def __init__(self, *args, relation: str = "content", **kwargs):
        self.relation = relation
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        version = resolve_or_400(value, RepositoryVersion, self.field_name)
        content = getattr(
            version,
            {"content": "content", "added": "added_content"}.get(self.relation, "removed_content"),
        )
        return qs.filter(pk__in=content.values("pk"))


class OrphanedForFilter(django_filters.NumberFilter):
    """Content in no repository version and not touched for at least ``value`` minutes."""

    def filter(self, qs, value):
        if value is None:
            return qs
        minutes = float(value)
        if minutes == -1:
            from django.conf import settings

            minutes = float(getattr(settings, "ORPHAN_PROTECTION_TIME", 1440))
        cutoff = timezone.now() - timedelta(minutes=minutes)
        in_repos = RepositoryContent.objects.values("content_id")
        return qs.exclude(pk__in=in_repos).filter(timestamp_of_interest__lte=cutoff)


class ContentHrefFilter(django_filters.CharFilter):
    """Objects related to the content unit (or units, for ``__in``) named by href."""

    def __init__(self, *args, many: bool = False, **kwargs):
        self.many = many
        super().__init__(*args, **kwargs)

    def content_pks(self, value) -> list:
        hrefs = [v.strip() for v in value.split(",") if v.strip()] if self.many else [value]
        return [resolve_or_400(h, Content, self.field_name).pk for h in hrefs]


class VersionContentFilter(ContentHrefFilter):
    """Repository versions that contain the content."""

    def filter(self, qs, value):
        if not value:
            return qs
        pks = self.content_pks(value)
        memberships = RepositoryContent.objects.filter(content_id__in=pks)
        query = Q(pk__in=[])
        for rc in memberships.select_related("version_added", "version_removed"):
            cond = Q(repository_id=rc.repository_id, number__gte=rc.version_added.number)
            if rc.version_removed is not None:
                cond &= Q(number__lt=rc.version_removed.number)
            query |= cond
        return qs.filter(query)


class PublicationContentFilter(VersionContentFilter):
    """Publications whose repository version contains the content."""

    def filter(self, qs, value):
        if not value:
            return qs
        versions = VersionContentFilter.filter(self, RepositoryVersion.objects.all(), value)
        return qs.filter(repository_version__in=versions)


class RepositoryWithContentFilter(ContentHrefFilter):
    """Repositories with any version (or, ``latest=True``, the latest) containing the content."""

    def __init__(self, *args, latest: bool = False, **kwargs):
        self.latest = latest
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        pks = self.content_pks(value)
        if not self.latest:
            repo_ids = RepositoryContent.objects.filter(content_id__in=pks).values("repository_id")
            return qs.filter(pk__in=repo_ids)
        keep = []
        candidates = RepositoryContent.objects.filter(content_id__in=pks).values_list(
            "repository_id", flat=True
        )
        for repo in Repository.objects.filter(pk__in=set(candidates)):
            latest = repo.latest_version()
            if latest is not None and latest.content.filter(pk__in=pks).exists():
                keep.append(repo.pk)
        return qs.filter(pk__in=keep)


@extend_schema_field(OpenApiTypes.UUID)
class HrefOrIdFilter(django_filters.CharFilter):
    """A relation given as an href, a bare UUID, or ``null``."""

    def __init__(self, *args, model=None, **kwargs):
        self.href_model = model
        super().__init__(*args, **kwargs)

    def _pk(self, value: str):
        if util.is_uuid(value):
            return value
        return resolve_or_400(value, self.href_model, self.field_name).pk

    def filter(self, qs, value):
        if not value:
            return qs
        if value == "null":
            return qs.filter(**{f"{self.field_name}__isnull": True})
        return qs.filter(**{self.field_name: self._pk(value)})


@extend_schema_field(OpenApiTypes.UUID)
class HrefOrIdInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Comma-separated hrefs or UUIDs of related objects."""

    def __init__(self, *args, model=None, **kwargs):
        self.href_model = model
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        pks = []
        for item in value:
            item = item.strip()
            if util.is_uuid(item):
                pks.append(item)
            elif item:
                pks.append(resolve_or_400(item, self.href_model, self.field_name).pk)
        return qs.filter(**{f"{self.field_name}__in": pks})


def number_filters(field: str) -> dict:
    out = {
        field: django_filters.NumberFilter(field_name=field),
        f"{field}__range": NumberInRangeFilter(field_name=field, lookup_expr="range"),
    }
    for lookup in ("gt", "gte", "lt", "lte"):
        out[f"{field}__{lookup}"] = django_filters.NumberFilter(
            field_name=field, lookup_expr=lookup
        )
    return out


class DateTimeRangeFilter(django_filters.BaseRangeFilter, django_filters.IsoDateTimeFilter):
    """``field__range=START,END``."""


def datetime_filters(field: str) -> dict:
    """``field`` plus its ``__gt/__gte/__lt/__lte/__range`` lookups, as Pulp declares them."""
    out = {field: django_filters.IsoDateTimeFilter(field_name=field)}
    for lookup in ("gt", "gte", "lt", "lte"):
        out[f"{field}__{lookup}"] = django_filters.IsoDateTimeFilter(
            field_name=field, lookup_expr=lookup
        )
    out[f"{field}__range"] = DateTimeRangeFilter(field_name=field, lookup_expr="range")
    return out


class RegexFilter(django_filters.CharFilter):
    """``__regex`` / ``__iregex``: a malformed pattern is a 400, not a database error."""

    def filter(self, qs, value):
        if value:
            import re

            try:
                re.compile(value)
            except re.error as exc:
                raise ValidationError({f"{self.field_name}__{self.lookup_expr}": [str(exc)]})
        return super().filter(qs, value)


def name_filters(field: str = "name") -> dict:
    out = {field: django_filters.CharFilter(field_name=field)}
    for lookup in NAME_FILTER_OPTIONS[1:]:
        if lookup == "in":
            out[f"{field}__in"] = CharInFilter(field_name=field, lookup_expr="in")
        elif lookup in ("regex", "iregex"):
            out[f"{field}__{lookup}"] = RegexFilter(field_name=field, lookup_expr=lookup)
        else:
            out[f"{field}__{lookup}"] = django_filters.CharFilter(
                field_name=field, lookup_expr=lookup
            )
    return out


def _build(name: str, bases: tuple, attrs: dict, model) -> type:
    """Make a FilterSet class with generated filters (keeps declarations below short)."""
    attrs = dict(attrs)
    attrs.setdefault("Meta", type("Meta", (), {"model": model, "fields": []}))
    attrs["__module__"] = __name__
    return type(name, bases, attrs)


# --- content ------------------------------------------------------------------------------------
class ContentFilter(BaseFilterSet):
    """Content lists: by type, by repository version (present, added, removed), orphaned."""

    repository_version = RepositoryVersionContentFilter(relation="content")
    repository_version_added = RepositoryVersionContentFilter(relation="added")
    repository_version_removed = RepositoryVersionContentFilter(relation="removed")
    orphaned_for = OrphanedForFilter()
    ordering = ordering_filter(Content)

    class Meta:
        model = Content
        fields = []


GenericContentFilter = _build(
    "GenericContentFilter",
    (ContentFilter,),
    {
        **PulpTypeFilterMixin.type_filters(Content),
        # Units of different types share only their key as a meaningful sort order.
        "ordering": django_filters.OrderingFilter(fields=[("pk", "pk")]),
    },
    Content,
)


# --- repositories -------------------------------------------------------------------------------
RepositoryFilter = _build(
    "RepositoryFilter",
    (BaseFilterSet,),
    {
        **name_filters("name"),
        **number_filters("retain_repo_versions"),
        "retain_repo_versions__isnull": django_filters.BooleanFilter(
            field_name="retain_repo_versions", lookup_expr="isnull"
        ),
        "retain_repo_versions__ne": django_filters.NumberFilter(
            field_name="retain_repo_versions", exclude=True
        ),
        "pulp_label_select": LabelSelectFilter(),
        "remote": HrefOrIdFilter(model=Remote, field_name="remote"),
        "with_content": RepositoryWithContentFilter(),
        "latest_with_content": RepositoryWithContentFilter(latest=True),
        "ordering": ordering_filter(Repository),
        "__doc__": "Repositories by name, labels, remote, retention and content they hold.",
    },
    Repository,
)

GenericRepositoryFilter = _build(
    "GenericRepositoryFilter",
    (RepositoryFilter,),
    PulpTypeFilterMixin.type_filters(Repository),
    Repository,
)

RepositoryVersionFilter = _build(
    "RepositoryVersionFilter",
    (BaseFilterSet,),
    {
        "pulp_id__in": None,
        **number_filters("number"),
        **datetime_filters("pulp_created"),
        "content": VersionContentFilter(),
        "content__in": VersionContentFilter(many=True),
        "ordering": ordering_filter(RepositoryVersion),
        "__doc__": "Versions by number, creation time and content they contain.",
    },
    RepositoryVersion,
)


# --- remotes ------------------------------------------------------------------------------------
RemoteFilter = _build(
    "RemoteFilter",
    (BaseFilterSet,),
    {
        **name_filters("name"),
        **datetime_filters("pulp_last_updated"),
        "pulp_label_select": LabelSelectFilter(),
        "ordering": ordering_filter(Remote),
        "__doc__": "Remotes by name, labels and last update.",
    },
    Remote,
)

GenericRemoteFilter = _build(
    "GenericRemoteFilter",
    (RemoteFilter,),
    PulpTypeFilterMixin.type_filters(Remote),
    Remote,
)


# --- publications -------------------------------------------------------------------------------
class _RepositoryOfPublicationFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        if not value:
            return qs
        repo = resolve_or_400(value, Repository, "repository")
        return qs.filter(repository_version__repository_id=repo.pk)


@extend_schema_field(OpenApiTypes.UUID)
class _VersionOfPublicationFilter(django_filters.CharFilter):
    """A repository version href (or its UUID)."""

    def filter(self, qs, value):
        if not value:
            return qs
        if util.is_uuid(value):
            return qs.filter(repository_version_id=value)
        version = resolve_or_400(value, RepositoryVersion, "repository_version")
        return qs.filter(repository_version_id=version.pk)


PublicationFilter = _build(
    "PublicationFilter",
    (BaseFilterSet,),
    {
        **datetime_filters("pulp_created"),
        "repository": _RepositoryOfPublicationFilter(),
        "repository_version": _VersionOfPublicationFilter(),
        "content": PublicationContentFilter(),
        "content__in": PublicationContentFilter(many=True),
        "ordering": ordering_filter(Publication),
        "__doc__": "Publications by repository, version, creation time and content.",
    },
    Publication,
)

GenericPublicationFilter = _build(
    "GenericPublicationFilter",
    (PublicationFilter,),
    PulpTypeFilterMixin.type_filters(Publication),
    Publication,
)


# --- distributions ------------------------------------------------------------------------------
class DistributionWithContentFilter(ContentHrefFilter):
    """Distributions that serve the content (through a publication, repository or version)."""

    def filter(self, qs, value):
        if not value:
            return qs
        versions = VersionContentFilter.filter(self, RepositoryVersion.objects.all(), value)
        repos_latest = []
        for repo in Repository.objects.filter(pk__in=versions.values("repository_id")):
            latest = repo.latest_version()
            if latest is not None and versions.filter(pk=latest.pk).exists():
                repos_latest.append(repo.pk)
        return qs.filter(
            Q(publication__repository_version__in=versions)
            | Q(repository_version__in=versions)
            | Q(repository_id__in=repos_latest)
        )


DistributionFilter = _build(
    "DistributionFilter",
    (BaseFilterSet,),
    {
        **name_filters("name"),
        "base_path": django_filters.CharFilter(field_name="base_path"),
        "base_path__contains": django_filters.CharFilter(
            field_name="base_path", lookup_expr="contains"
        ),
        "base_path__icontains": django_filters.CharFilter(
            field_name="base_path", lookup_expr="icontains"
        ),
        "base_path__in": CharInFilter(field_name="base_path", lookup_expr="in"),
        "pulp_label_select": LabelSelectFilter(),
        "repository": HrefOrIdFilter(model=Repository, field_name="repository"),
        "repository__in": HrefOrIdInFilter(model=Repository, field_name="repository"),
        "with_content": DistributionWithContentFilter(),
        "ordering": ordering_filter(Distribution),
        "__doc__": "Distributions by name, base path, labels, repository and served content.",
    },
    Distribution,
)

GenericDistributionFilter = _build(
    "GenericDistributionFilter",
    (DistributionFilter,),
    PulpTypeFilterMixin.type_filters(Distribution),
    Distribution,
)


# --- content guards -----------------------------------------------------------------------------
ContentGuardFilter = _build(
    "ContentGuardFilter",
    (BaseFilterSet,),
    {
        **name_filters("name"),
        "ordering": ordering_filter(ContentGuard),
        "__doc__": "Content guards by name.",
    },
    ContentGuard,
)

GenericContentGuardFilter = _build(
    "GenericContentGuardFilter",
    (ContentGuardFilter,),
    PulpTypeFilterMixin.type_filters(ContentGuard),
    ContentGuard,
)
