"""Filtersets of content units and artifacts."""

from __future__ import annotations

import django_filters

from pulpcore.app.filters import (
    BaseFilterSet,
    OrderingFilter,
    OrphanedForFilter,
    PulpTypeFilter,
    PulpTypeInFilter,
    ordering_filter,
    resolve_or_400,
)
from pulpcore.app.models import Artifact, Content, ContentArtifact, RepositoryVersion
from pulpcore.app.models.content import CHECKSUM_NAMES
from pulpcore.app.queries.versions import unit_ids


def _orphaned_content(minutes: float):
    from pulpcore.app.tasks.orphan import orphaned_content

    return orphaned_content(minutes)


def _orphaned_artifacts(minutes: float):
    from pulpcore.app.tasks.orphan import orphaned_artifacts

    return orphaned_artifacts(minutes)


def artifacts_in_version(version: RepositoryVersion):
    """Artifacts used by the content present in ``version``."""
    return Artifact.objects.filter(
        pk__in=ContentArtifact.objects.filter(
            content__in=version.content, artifact__isnull=False
        ).values("artifact_id")
    )


class RepositoryVersionContentFilter(django_filters.CharFilter):
    """Units present in, added to (``relation="added"``) or removed from (``"removed"``) the
    repository version named by href."""

    def __init__(self, *args, relation: str = "content", **kwargs):
        self.relation = relation
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        version = resolve_or_400(value, RepositoryVersion, self.field_name)
        return qs.filter(pk__in=unit_ids(version, self.relation))


class ContentFilter(BaseFilterSet):
    """Content lists: by repository version (present, added, removed) and orphans."""

    repository_version = RepositoryVersionContentFilter(relation="content")
    repository_version_added = RepositoryVersionContentFilter(relation="added")
    repository_version_removed = RepositoryVersionContentFilter(relation="removed")
    orphaned_for = OrphanedForFilter(orphans=_orphaned_content)
    ordering = ordering_filter(Content)

    class Meta:
        model = Content
        fields: dict = {}


class GenericContentFilter(ContentFilter):
    """``content/``: every type, so also by ``pulp_type``."""

    pulp_type = PulpTypeFilter(Content)
    pulp_type__in = PulpTypeInFilter(Content)
    # Units of different types share only their key as a meaningful sort order.
    ordering = OrderingFilter(fields=[("pk", "pk")])

    class Meta:
        model = Content
        fields: dict = {}


class ArtifactFilter(BaseFilterSet):
    """Artifacts by checksum, by the repository version whose content uses them, and orphans."""

    repository_version = django_filters.CharFilter(method="filter_repository_version")
    orphaned_for = OrphanedForFilter(orphans=_orphaned_artifacts)
    ordering = ordering_filter(Artifact)

    class Meta:
        model = Artifact
        fields = {name: ["exact"] for name in CHECKSUM_NAMES}

    def filter_repository_version(self, qs, name, value):
        version = resolve_or_400(value, RepositoryVersion, name)
        return qs.filter(pk__in=artifacts_in_version(version).values("pk"))
