"""Which repository versions hold which content, as set-based querysets for the filters.

The membership rule itself (a unit is in version *n* of its repository when it was added at or
before *n* and not removed at or before *n*) lives in ``pulpcore.app.queries.versions``. Each
function returns a lazy queryset the caller nests as a subquery, so a filter costs no query of its
own and the same whatever the number of repositories or units.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from pulpcore.app.models import RepositoryContent, RepositoryVersion
from pulpcore.app.queries import versions as version_queries


def versions_containing(content_pks, versions: QuerySet | None = None) -> QuerySet:
    """Versions (of ``versions``, default all) that hold any of the units ``content_pks``."""
    return version_queries.versions_containing(content_pks, versions)


def latest_versions() -> QuerySet:
    """Each repository's latest complete version (no complete version numbered higher)."""
    newer = RepositoryVersion.objects.filter(
        repository_id=OuterRef("repository_id"), complete=True, number__gt=OuterRef("number")
    )
    return RepositoryVersion.objects.filter(complete=True).exclude(Exists(newer))


def repositories_with_content(content_pks) -> QuerySet:
    """Ids of repositories any version of which ever held any of the units."""
    return RepositoryContent.objects.filter(content_id__in=content_pks).values("repository_id")


def repositories_whose_latest_has(content_pks) -> QuerySet:
    """Ids of repositories whose latest version holds any of the units."""
    return versions_containing(content_pks, latest_versions()).values("repository_id")
