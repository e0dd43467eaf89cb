"""Turning querysets into SQL text for hand-written statements, and id sets kept in SQL."""

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import CASCADE, DO_NOTHING, SET_NULL, Model, ProtectedError, QuerySet


def pk_subquery(queryset: QuerySet) -> tuple[str, tuple] | None:
    """``(sql, params)`` selecting the primary keys of ``queryset``, or None when it is empty.

    Django raises ``EmptyResultSet`` instead of writing ``IN ()`` when a filter is given an empty
    list; a caller embedding the SQL has nothing to do then, so it gets None to test for.
    """
    try:
        return queryset.values("pk").order_by().query.sql_with_params()
    except EmptyResultSet:
        return None


@contextmanager
def streamed_rows(queryset: QuerySet, chunk_size: int = 5000) -> Iterator[Iterator[tuple]]:
    """Every row of a ``values_list`` queryset, read ``chunk_size`` at a time from a server-side
    cursor (the worker holds one chunk, whatever the size of the result).

    ``QuerySet.iterator()`` declares its cursor with PostgreSQL's default
    ``cursor_tuple_fraction`` (0.1): the planner then favours plans that return the first rows
    fast, nested-loop index probes per row, which cost several times the hash joins a caller that
    reads every row wants (a 10,000-file manifest: ~85 ms against ~25 ms). Here the cursor is
    planned for reading all of it; the setting is restored when the block ends, so the rest of a
    surrounding transaction is planned as before. Rows are the driver's values: no
    ``from_db_value`` converters run, so select plain columns (text, numbers, UUIDs).
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:
        yield iter(())
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('cursor_tuple_fraction')")
            (previous,) = cursor.fetchone()
            cursor.execute("SELECT set_config('cursor_tuple_fraction', '1', true)")
        named = connection.connection.cursor(name=f"pulp_rows_{uuid.uuid4().hex}")
        named.itersize = chunk_size
        try:
            named.execute(sql, params)
            yield iter(named)
        finally:
            named.close()
        # (On an error the atomic block rolls back, and the setting with it.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('cursor_tuple_fraction', %s, true)", [previous])


class TempIdSet:
    """A set of ids kept in a temporary table of this connection instead of in memory.

    A sync that must later ask "which of the version's units were not seen?" writes each batch
    here and answers with one set-based statement (see ``versions.content_not_in``), so no statement
    carries every id and the worker does not hold them all. The table lives until :meth:`drop`
    (or the end of the session); it does not depend on a surrounding transaction.
    """

    def __init__(self, column: str = "content_id"):
        self.table = f"pulp_ids_{uuid.uuid4().hex}"
        self.column = column
        self._created = False

    def add(self, ids: Iterable) -> None:
        """Add ids (UUIDs or their text) to the set; duplicates are ignored."""
        values = [str(i) for i in ids]
        if not values:
            return
        with connection.cursor() as cursor:
            if not self._created:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE {self.table} ({self.column} uuid PRIMARY KEY)"
                )
                self._created = True
            cursor.execute(
                f"INSERT INTO {self.table} SELECT unnest(%s::uuid[]) ON CONFLICT DO NOTHING",
                [values],
            )

    def fill(self, queryset: QuerySet) -> int:
        """Make the set the primary keys of ``queryset`` (one ``INSERT ... SELECT``)."""
        self.drop()
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE {self.table} ({self.column} uuid PRIMARY KEY)")
            self._created = True
            sub = pk_subquery(queryset)
            if sub is None:
                return 0
            cursor.execute(f"INSERT INTO {self.table} {sub[0]}", sub[1])
            return cursor.rowcount

    @property
    def select_sql(self) -> str:
        """``SELECT`` of the set's ids, to embed as ``IN (...)``."""
        return f"SELECT {self.column} FROM {self.table}"

    @property
    def exists(self) -> bool:
        """Whether the table was created (by :meth:`add` or :meth:`fill`)."""
        return self._created

    def drop(self) -> None:
        if self._created:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            self._created = False


def delete_cascading(model: type[Model], pk_sql: str, params: Sequence = ()) -> int:
    """Delete the rows of ``model`` whose pk is in ``pk_sql`` and, as Django's ``on_delete``
    says, what refers to them, with one statement per table (returns rows of ``model`` deleted).

    ``QuerySet.delete()`` loads every row it deletes (and, for plugin content, fetches each
    unit's master row one query at a time); this walks the relations once and lets PostgreSQL
    do the work, so its cost follows the tables, not Python objects. Like ``QuerySet.delete()``
    it ignores generic foreign keys; no pre/post-delete signals are sent (the models here have
    none). ``PROTECT``/``RESTRICT`` relations that still hold a row raise ``ProtectedError``
    and nothing is deleted.
    """
    qn = connection.ops.quote_name
    # A savepoint: a protected row found half-way undoes what was deleted before it.
    with transaction.atomic(), connection.cursor() as cursor:
        for rel in model._meta.get_fields(include_parents=False, include_hidden=True):
            if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
                continue
            related, fk = rel.related_model, rel.field
            target = fk.target_field
            keys = pk_sql
            if target.column != model._meta.pk.column:
                keys = (
                    f"SELECT {qn(target.column)} FROM {qn(model._meta.db_table)}"
                    f" WHERE {qn(model._meta.pk.column)} IN ({pk_sql})"
                )
            where = f"{qn(fk.column)} IN ({keys})"
            table = qn(related._meta.db_table)
            on_delete = rel.on_delete
            if on_delete is CASCADE:
                sub = f"SELECT {qn(related._meta.pk.column)} FROM {table} WHERE {where}"
                delete_cascading(related, sub, params)
            elif on_delete is SET_NULL:
                cursor.execute(f"UPDATE {table} SET {qn(fk.column)} = NULL WHERE {where}", params)
            elif on_delete is DO_NOTHING:
                continue
            else:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {where})", params)
                if cursor.fetchone()[0]:
                    raise ProtectedError(
                        f"Cannot delete some {model._meta.verbose_name_plural}: "
                        f"{related._meta.verbose_name_plural} still refer to them.",
                        set(),
                    )
        cursor.execute(
            f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(model._meta.pk.column)}"
            f" IN ({pk_sql})",
            params,
        )
        return cursor.rowcount
