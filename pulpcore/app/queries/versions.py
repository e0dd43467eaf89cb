"""Which content units are in version n of a repository: the one rule, as ORM and as SQL.

Membership is stored as ranges: a ``RepositoryContent`` row says a unit joined the repository at
``version_added`` and left at ``version_removed`` (NULL while it is still there). The unit is in
version n when ``version_added.number <= n`` and it was not removed at or before n::

    version_added.number <= n AND (version_removed IS NULL OR version_removed.number > n)

``memberships`` and ``content_in`` give that as querysets; ``membership_sql`` gives the same
condition as SQL fragments for the content app's single-statement resolution and for the content
summary, so the rule exists exactly once. Models are imported inside the functions because
``pulpcore.app.models`` itself imports this module.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, Expression, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

REPOSITORY_CONTENT_TABLE = "core_repositorycontent"
REPOSITORY_VERSION_TABLE = "core_repositoryversion"
CONTENT_TABLE = "core_content"


def membership_q(number: "int | Expression | OuterRef") -> Q:
    """The rule on ``RepositoryContent`` rows for version ``number`` (repository not included);
    ``number`` may be an expression such as ``OuterRef("number")``."""
    return Q(version_added__number__lte=number) & (
        Q(version_removed__isnull=True) | Q(version_removed__number__gt=number)
    )


def latest_q(prefix: str = "") -> Q:
    """The rule for a repository's latest version: rows nothing has removed yet. ``prefix`` is the
    lookup path from the queried model to ``RepositoryContent`` (e.g.
    ``"content__version_memberships__"``); use it in the same ``filter()`` as the other conditions
    on that relation so they share one join."""
    return Q(**{f"{prefix}version_removed__isnull": True})


def memberships(repository_id, number: int) -> QuerySet:
    """``RepositoryContent`` rows of the units present in version ``number`` of a repository."""
    from pulpcore.app.models import RepositoryContent

    return RepositoryContent.objects.filter(membership_q(number), repository_id=repository_id)


def content_in(version) -> QuerySet:
    """All content units present in ``version`` (a ``Content`` queryset)."""
    from pulpcore.app.models import Content

    return Content.objects.filter(
        pk__in=memberships(version.repository_id, version.number).values("content_id")
    )


def unit_ids(version, relation: str = "content") -> QuerySet:
    """Ids of the units present in (``"content"``), added by (``"added"``) or removed by
    (``"removed"``) ``version``, as a ``content_id`` values queryset to nest as
    ``pk__in=``: one semi-join on the membership table, with no ``Content`` layer in between."""
    from pulpcore.app.models import RepositoryContent

    if relation == "content":
        rows = memberships(version.repository_id, version.number)
    elif relation == "added":
        rows = RepositoryContent.objects.filter(version_added=version)
    elif relation == "removed":
        rows = RepositoryContent.objects.filter(version_removed=version)
    else:
        raise ValueError(f"Unknown relation {relation!r}: use content, added or removed.")
    return rows.values("content_id")


def content_not_in(version, ids) -> QuerySet:
    """Units of ``version`` whose pk is not in ``ids`` (a ``queries.sql.TempIdSet``): one
    ``NOT EXISTS`` in the database, whatever the size of the version or of the set."""
    if not ids.exists:
        return content_in(version)
    return content_in(version).exclude(pk__in=RawSQL(ids.select_sql, ()))


def added_in(version) -> QuerySet:
    """Units ``version`` added to its repository."""
    from pulpcore.app.models import Content, RepositoryContent

    return Content.objects.filter(
        pk__in=RepositoryContent.objects.filter(version_added=version).values("content_id")
    )


def removed_in(version) -> QuerySet:
    """Units ``version`` removed from its repository."""
    from pulpcore.app.models import Content, RepositoryContent

    return Content.objects.filter(
        pk__in=RepositoryContent.objects.filter(version_removed=version).values("content_id")
    )


def versions_containing(content_pks: Iterable, versions: QuerySet | None = None) -> QuerySet:
    """Versions (of ``versions``, default all) holding any of the units, as one set-based query
    (``EXISTS`` on the rule above) that callers nest as a subquery."""
    from pulpcore.app.models import RepositoryContent, RepositoryVersion

    if versions is None:
        versions = RepositoryVersion.objects.all()
    if not isinstance(content_pks, QuerySet):
        content_pks = list(content_pks)
    return versions.filter(
        Exists(
            RepositoryContent.objects.filter(
                membership_q(OuterRef("number")),
                repository_id=OuterRef("repository_id"),
                content_id__in=content_pks,
            )
        )
    )


@dataclass(frozen=True)
class MembershipSQL:
    """The rule as SQL: ``joins`` goes in a FROM clause, ``condition`` in its WHERE."""

    joins: str
    condition: str


def membership_sql(repository: str, number: str, rc: str = "rc") -> MembershipSQL:
    """Rows ``rc`` of the membership table present in version ``number`` of ``repository``.

    ``repository`` and ``number`` are SQL expressions (a column such as ``src.repository_id`` or
    a placeholder such as ``%(repo)s``); ``rc`` is the alias the caller joins on
    (``rc.content_id``). The version aliases are derived from it so two uses never clash.
    """
    va, vr = f"{rc}_va", f"{rc}_vr"
    joins = (
        f"{REPOSITORY_CONTENT_TABLE} {rc}\n"
        f"JOIN {REPOSITORY_VERSION_TABLE} {va} ON {va}.pulp_id = {rc}.version_added_id\n"
        f"LEFT JOIN {REPOSITORY_VERSION_TABLE} {vr} ON {vr}.pulp_id = {rc}.version_removed_id"
    )
    condition = (
        f"{rc}.repository_id = {repository} AND {va}.number <= {number}"
        f" AND ({vr}.pulp_id IS NULL OR {vr}.number > {number})"
    )
    return MembershipSQL(joins, condition)


_PRESENT = membership_sql("v.repository_id", "v.number")
PRESENT_COUNTS_SQL = f"""
SELECT v.pulp_id, c.pulp_type, count(*)
FROM {REPOSITORY_VERSION_TABLE} v,
     {_PRESENT.joins}
JOIN {CONTENT_TABLE} c ON c.pulp_id = rc.content_id
WHERE v.pulp_id = ANY(%s) AND {_PRESENT.condition}
GROUP BY v.pulp_id, c.pulp_type
"""


def content_counts(version_pks: Iterable) -> dict:
    """``{version pk: {"added"|"removed"|"present": {pulp_type: count}}}`` in three queries.

    The content summary of a whole page of versions costs the same as that of one.
    """
    from pulpcore.app.models import RepositoryContent

    pks = list(version_pks)
    counts: dict = {pk: {"added": {}, "removed": {}, "present": {}} for pk in pks}
    if not pks:
        return counts
    for key, column in (("added", "version_added_id"), ("removed", "version_removed_id")):
        rows = (
            RepositoryContent.objects.filter(**{f"{column}__in": pks})
            .values(column, "content__pulp_type")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            counts[row[column]][key][row["content__pulp_type"]] = row["n"]
    with connection.cursor() as cursor:
        cursor.execute(PRESENT_COUNTS_SQL, [pks])
        for pk, pulp_type, n in cursor.fetchall():
            counts[pk]["present"][pulp_type] = n
    return counts
