"""Turning querysets into SQL text for hand-written ``INSERT ... SELECT`` statements."""

from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet


def pk_subquery(queryset: QuerySet) -> tuple[str, tuple] | None:
    """``(sql, params)`` selecting the primary keys of ``queryset``, or None when it is empty.

    Django raises ``EmptyResultSet`` instead of writing ``IN ()`` when a filter is given an empty
    list; a caller embedding the SQL has nothing to do then, so it gets None to test for.
    """
    try:
        return queryset.values("pk").order_by().query.sql_with_params()
    except EmptyResultSet:
        return None
