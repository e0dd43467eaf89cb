"""One page of an ordered content list that costs (nearly) the same at any offset.

``queryset[offset:offset + limit]`` on a detail model (``file.file`` inherits ``core_content``)
joins the detail table to ``core_content`` and sorts every row before it can skip ``offset`` of
them: at 100,000 units the first page and a deep page each cost a full sort. Here the page's keys
come first, from ``core_content`` alone: ``WHERE pulp_type IN (...) ORDER BY pulp_created DESC,
pulp_id DESC OFFSET n LIMIT l`` is an index-only scan of ``core_content_type_created`` (migration
0012), and only the ``limit`` rows of the page are then read from both tables. The skipped rows
are index entries, never heap rows, and the detail table is never joined for them.

The ordering gets the primary key as a last tie-break (in the direction of the last term, so one
index scan serves it): units made by one bulk insert can share ``pulp_created``, and without a
total order a row could show on two pages or none.
"""

from django.db.models import QuerySet
from django.db.models.lookups import In
from django.db.models.sql import Query
from django.db.models.sql.where import AND, WhereNode

# Ordering names every model answers with its primary key.
PK_NAMES = ("pk", "pulp_id")


def _content_detail(queryset: QuerySet) -> bool:
    """Whether the queryset lists a content detail model (rows in ``core_content`` and a detail
    table) as model instances: the lists the key page is for, and ``core_content`` is the table
    with the index. Other masters' lists are small and keep plain slices."""
    from django.db.models.query import ModelIterable

    from pulpcore.app.models import Content

    model = queryset.model
    return (
        model is not None
        and issubclass(model, Content)
        and model is not Content
        and queryset._iterable_class is ModelIterable
        and not queryset.query.combinator
    )


def total_ordering(queryset: QuerySet) -> list[str] | None:
    """The queryset's ordering (plain field names only) with the pk appended as tie-break, or
    None when it orders by an expression, by nothing, or by a relation path."""
    terms = list(queryset.query.order_by)
    if not terms or not all(isinstance(t, str) for t in terms):
        return None
    if any("__" in t or t.lstrip("-") == "?" for t in terms):
        return None
    if not any(t.lstrip("-") in PK_NAMES for t in terms):
        terms.append("-pk" if terms[-1].startswith("-") else "pk")
    return terms


def page_queryset(queryset: QuerySet, offset: int, limit: int) -> QuerySet:
    """The rows ``queryset[offset:offset + limit]`` would give, in the same (total) order.

    Content querysets ordered by fields of ``core_content`` take their page of keys from that
    table alone (see the module docstring); anything else is sliced as it is, with the pk
    tie-break added to its ordering when it orders by plain fields.
    """
    ordering = total_ordering(queryset)
    if ordering is None or queryset.query.is_sliced or queryset.query.distinct:
        return queryset[offset : offset + limit]
    queryset = queryset.order_by(*ordering)
    # The master itself (``content/``, every type) has no detail join to skip and no index on
    # its ordering across types: a page of keys would only add a query level.
    if not _content_detail(queryset):
        return queryset[offset : offset + limit]
    from pulpcore.app.models import Content

    master_fields = {f.name for f in Content._meta.concrete_fields if not f.is_relation}
    if not all(t.lstrip("-") in master_fields or t.lstrip("-") in PK_NAMES for t in ordering):
        return queryset[offset : offset + limit]
    types = [
        m.get_pulp_type()
        for m in Content.detail_models()
        if issubclass(m, queryset.model)  # type: ignore[arg-type]
    ]
    keys = Content._base_manager.filter(pulp_type__in=types)
    on_pk, rest = _split_pk_filters(queryset)
    for subquery in on_pk:
        keys = keys.filter(pk__in=subquery)
    if rest is not None:
        keys = keys.filter(pk__in=rest.values("pk"))
    keys = keys.order_by(*ordering)
    return _rows(queryset).filter(pk__in=keys.values("pk")[offset : offset + limit])


def _split_pk_filters(queryset: QuerySet) -> tuple[list, QuerySet | None]:
    """The queryset's ``pk__in=<subquery>`` filters (``repository_version=`` is one), which apply
    to ``core_content`` keys as they are, and the rest as a queryset (None if nothing is left).

    Moving them spares a semi-join through the detail table (at 100,000 units a third of a deep
    page of a version's content). A ``pk__in`` filter adds no join, so the rest keeps exactly the
    joins its own filters need.
    """
    where = queryset.query.where
    if where.connector != AND or where.negated:
        return [], queryset.order_by()
    pk_columns = {queryset.model._meta.pk.column, "pulp_id"}
    on_pk, others = [], []
    for child in where.children:
        target = getattr(getattr(child, "lhs", None), "target", None)
        alias = getattr(getattr(child, "lhs", None), "alias", None)
        if (
            isinstance(child, In)
            and isinstance(child.rhs, Query)
            and target is not None
            and target.column in pk_columns
            and alias == queryset.query.base_table
        ):
            on_pk.append(child.rhs)
        else:
            others.append(child)
    if not others:
        return on_pk, None
    rest = queryset.order_by()
    rest.query.where = WhereNode(others, AND)
    return on_pk, rest


def _rows(queryset: QuerySet) -> QuerySet:
    """``queryset`` without its filters (the page's keys already obey them; evaluating them a
    second time for 100 rows made the planner build the version's membership again), keeping
    what shapes the rows: ordering, select/prefetch_related and deferred fields. A queryset
    with annotations keeps everything."""
    if queryset.query.annotations:
        return queryset
    rows = queryset.model._base_manager.order_by(*queryset.query.order_by)
    rows.query.select_related = queryset.query.select_related
    rows.query.deferred_loading = queryset.query.deferred_loading
    return rows.prefetch_related(*queryset._prefetch_related_lookups)
