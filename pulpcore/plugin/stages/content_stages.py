"""Stages that find or save content units, link them to artifacts, and build the new version.

Writes are bulk statements sorted by natural key (content) or primary key (links), so two syncs
inserting overlapping units take row locks in the same order and cannot deadlock.
"""

import uuid
from collections import defaultdict

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Model
from django.utils import timezone
from psycopg2.extras import execute_values

from pulpcore.app.models import (
    CHECKSUM_NAMES,
    Artifact,
    Content,
    ContentArtifact,
    RemoteArtifact,
    RepositoryVersion,
)
from pulpcore.app.queries.sql import TempIdSet
from pulpcore.app.queries.versions import content_not_in
from pulpcore.plugin.stages.api import AsyncProgress, Stage, db
from pulpcore.plugin.stages.models import DeclarativeContent


def _key(value) -> tuple:
    return tuple("" if v is None else str(v) for v in value)


def find_existing(model: type[Content], units: list[Content]) -> dict[tuple, Content]:
    """Saved units of ``model`` with the natural keys of ``units``: {natural key: unit}."""
    fields = model.natural_key_fields
    if not fields or not units:
        return {}
    filters = {}
    for i, name in enumerate(fields):
        filters[f"{name}__in"] = list({u.natural_key()[i] for u in units})
    wanted = {_key(u.natural_key()) for u in units}
    return {
        _key(found.natural_key()): found
        for found in model.objects.filter(**filters).only(*fields)
        if _key(found.natural_key()) in wanted
    }


def bulk_insert_ignore(model: type[Content], units: list[Content]) -> set:
    """Insert new detail units (and their master rows) skipping natural-key conflicts.

    Returns the primary keys actually inserted. Django cannot bulk-create multi-table models, so
    the detail table is written with ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` first and only
    the winners get their master rows (foreign keys are checked at commit).
    """
    if not units:
        return set()
    parents = [(p, link) for p, link in model._meta.parents.items() if link is not None]
    for unit in units:
        unit.pulp_type = unit.pulp_type or model.get_pulp_type()
        for parent, link in parents:
            setattr(unit, link.attname, getattr(unit, parent._meta.pk.attname))
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: no proxy lookup per value
    fields = list(model._meta.local_concrete_fields)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    pk_column = qn(model._meta.pk.column)
    rows = [
        tuple(f.get_db_prep_save(f.pre_save(unit, True), connection) for f in fields)
        for unit in units
    ]
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES %s "
        f"ON CONFLICT DO NOTHING RETURNING {pk_column}"
    )
    with connection.cursor() as cursor:
        inserted = execute_values(cursor.cursor, sql, rows, page_size=len(rows), fetch=True)
    inserted_pks = {str(row[0]) for row in inserted}
    winners = [u for u in units if str(u.pk) in inserted_pks]
    # Master rows, top-most ancestor first (Content for a plugin type).
    for parent, _link in reversed(parents):
        parent_fields = list(parent._meta.local_concrete_fields)
        insert_rows(
            parent,
            [f.name for f in parent_fields],
            [
                tuple(f.get_db_prep_save(f.pre_save(u, True), connection) for f in parent_fields)
                for u in winners
            ],
        )
    for unit in winners:
        unit._state.adding = False
        unit._state.db = "default"
    return inserted_pks


def insert_rows(model: type[Model], field_names: list[str], rows: list[tuple]) -> None:
    """One multi-row ``INSERT ... ON CONFLICT DO NOTHING`` of ready values (no model objects)."""
    if not rows:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(model._meta.get_field(name).column) for name in field_names)
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES %s ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, rows, page_size=1000)


class QueryExistingContents(Stage):
    """Swap declared units for saved ones with the same natural key (one query per type).

    For units already stored it also checks, with two light queries, whether their
    ContentArtifacts and RemoteArtifacts already say what this sync declares: artifacts already
    linked are reused without a lookup or download, and unchanged units skip the link writes, so
    a sync with nothing new costs a handful of queries.
    """

    async def run(self) -> None:
        async for batch in self.batches():
            await db(self._resolve, batch)
            for dc in batch:
                await self.put(dc)

    @staticmethod
    def _resolve(batch: list[DeclarativeContent]) -> None:
        by_model: dict[type[Model], list[DeclarativeContent]] = defaultdict(list)
        for dc in batch:
            if dc.content._state.adding:
                by_model[type(dc.content)].append(dc)
        for model, dcs in by_model.items():
            existing = find_existing(model, [dc.content for dc in dcs])
            for dc in dcs:
                found = existing.get(_key(dc.content.natural_key()))
                if found is not None:
                    dc.content = found
        QueryExistingContents._check_links(
            [dc for dc in batch if not dc.content._state.adding and dc.d_artifacts]
        )

    @staticmethod
    def _check_links(found: list[DeclarativeContent]) -> None:
        if not found:
            return
        links = {
            (content_id, relative_path): (ca_pk, artifact_id)
            for ca_pk, content_id, relative_path, artifact_id in ContentArtifact.objects.filter(
                content_id__in=[dc.content.pk for dc in found]
            ).values_list("pk", "content_id", "relative_path", "artifact_id")
        }
        remote_ids = {da.remote.pk for dc in found for da in dc.d_artifacts if da.remote}
        urls = {}
        if remote_ids and links:
            urls = {
                (ca_pk, remote_id): url
                for ca_pk, remote_id, url in RemoteArtifact.objects.filter(
                    content_artifact_id__in=[pk for pk, _ in links.values()],
                    remote_id__in=remote_ids,
                ).values_list("content_artifact_id", "remote_id", "url")
            }
        for dc in found:
            current = True
            for da in dc.d_artifacts:
                link = links.get((dc.content.pk, da.relative_path))
                if link is None:
                    current = False
                    continue
                ca_pk, artifact_id = link
                if artifact_id is not None and not da.saved:
                    # Lazily loaded: only the key is known until a field is read.
                    da.artifact = Artifact.from_db("default", ["pulp_id"], [artifact_id])
                elif artifact_id is None and not da.deferred_download:
                    current = False  # to be downloaded and linked now
                if da.url and da.remote is not None and urls.get((ca_pk, da.remote.pk)) != da.url:
                    current = False
            dc.links_current = current


class ContentSaver(Stage):
    """Save new units, then their ContentArtifacts and RemoteArtifacts, one transaction a batch."""

    async def run(self) -> None:
        async for batch in self.batches():
            await db(self._save, batch)
            for dc in batch:
                await self.put(dc)

    def _save(self, batch: list[DeclarativeContent]) -> None:
        with transaction.atomic():
            created = self._save_units(batch)
            fresh = [dc for dc in batch if dc.content.pk in created]
            self._link_new_units(fresh)
            self._save_links([dc for dc in batch if dc.content.pk not in created])

    @staticmethod
    def _save_units(batch: list[DeclarativeContent]) -> set:
        """Insert the batch's new units; return the keys of those this transaction created."""
        created: set = set()
        by_model: dict[type[Model], list[DeclarativeContent]] = defaultdict(list)
        for dc in batch:
            if dc.content._state.adding:
                by_model[type(dc.content)].append(dc)
        for model in sorted(by_model, key=lambda m: m._meta.label):
            dcs = by_model[model]
            # One unit per natural key (a first stage may declare a unit twice).
            unique: dict[tuple, Content] = {}
            for dc in dcs:
                unique.setdefault(_key(dc.content.natural_key()), dc.content)
            ordered = [unique[k] for k in sorted(unique)]
            inserted = bulk_insert_ignore(model, ordered)
            created.update(u.pk for u in ordered if str(u.pk) in inserted)
            losers = [u for u in ordered if str(u.pk) not in inserted]
            existing = find_existing(model, losers) if losers else {}
            for key, unit in unique.items():
                if str(unit.pk) not in inserted:
                    unique[key] = existing[key]  # another sync saved it first
            for dc in dcs:
                dc.content = unique[_key(dc.content.natural_key())]
        return created

    @staticmethod
    def _link_new_units(fresh: list[DeclarativeContent]) -> None:
        """Links of units created in this very transaction: nobody else can have any yet, so
        rows are written directly, without looking for existing ones first."""
        now = timezone.now()
        ca_rows: dict[tuple, tuple] = {}
        ra_rows: dict[tuple, tuple] = {}
        for dc in fresh:
            for da in dc.d_artifacts:
                key = (dc.content.pk, da.relative_path)
                artifact_id = None if da.artifact._state.adding else da.artifact.pk
                if key not in ca_rows or (ca_rows[key][4] is None and artifact_id is not None):
                    ca_pk = ca_rows[key][0] if key in ca_rows else uuid.uuid4()
                    ca_rows[key] = (ca_pk, now, now, dc.content.pk, artifact_id, da.relative_path)
                if da.url and da.remote is not None:
                    ca_pk = ca_rows[key][0]
                    ra_rows[(ca_pk, da.remote.pk)] = (
                        uuid.uuid4(),
                        now,
                        now,
                        da.url,
                        da.declared.get("size"),
                        *(da.declared.get(name) for name in CHECKSUM_NAMES),
                        ca_pk,
                        da.remote.pk,
                    )
        ca_fields = ["pulp_id", "pulp_created", "pulp_last_updated", "content", "artifact"]
        insert_rows(
            ContentArtifact,
            [*ca_fields, "relative_path"],
            [ca_rows[k] for k in sorted(ca_rows, key=lambda k: (str(k[0]), k[1]))],
        )
        insert_rows(
            RemoteArtifact,
            ["pulp_id", "pulp_created", "pulp_last_updated", "url", "size", *CHECKSUM_NAMES]
            + ["content_artifact", "remote"],
            [ra_rows[k] for k in sorted(ra_rows, key=lambda k: (str(k[0]), str(k[1])))],
        )

    @staticmethod
    def _save_links(batch: list[DeclarativeContent]) -> None:
        batch = [dc for dc in batch if dc.d_artifacts and not dc.links_current]
        content_ids = {dc.content.pk for dc in batch}
        if not content_ids:
            return
        existing = {
            (ca.content_id, ca.relative_path): ca
            for ca in ContentArtifact.objects.filter(content_id__in=content_ids)
        }
        to_create: dict[tuple, ContentArtifact] = {}
        to_fill: dict = {}
        for dc in batch:
            for da in dc.d_artifacts:
                artifact = None if da.artifact._state.adding else da.artifact
                key = (dc.content.pk, da.relative_path)
                ca = existing.get(key)
                if ca is None:
                    if key not in to_create or to_create[key].artifact_id is None:
                        to_create[key] = ContentArtifact(
                            content_id=dc.content.pk,
                            artifact=artifact,
                            relative_path=da.relative_path,
                        )
                elif ca.artifact_id is None and artifact is not None:
                    ca.artifact = artifact  # an on_demand unit whose file we now have
                    to_fill[ca.pk] = ca
        if to_create:
            ContentArtifact.objects.bulk_create(
                [to_create[k] for k in sorted(to_create, key=lambda k: (str(k[0]), k[1]))],
                ignore_conflicts=True,
            )
        if to_fill:
            ContentArtifact.objects.bulk_update(
                [to_fill[k] for k in sorted(to_fill, key=str)], ["artifact"]
            )
        # Where each unit's artifacts can be downloaded later (needed by on_demand and repair).
        declared = [
            (dc.content.pk, da)
            for dc in batch
            for da in dc.d_artifacts
            if da.url and da.remote is not None
        ]
        if not declared:
            return
        if to_create:
            existing = {
                (ca.content_id, ca.relative_path): ca
                for ca in ContentArtifact.objects.filter(content_id__in=content_ids)
            }
        remote_ids = {da.remote.pk for _, da in declared if da.remote is not None}
        current = {
            (ra.content_artifact_id, ra.remote_id): ra
            for ra in RemoteArtifact.objects.filter(
                content_artifact__in=[ca.pk for ca in existing.values()], remote_id__in=remote_ids
            )
        }
        new_ras: dict[tuple, RemoteArtifact] = {}
        changed: dict[tuple, RemoteArtifact] = {}
        for content_id, da in declared:
            assert da.remote is not None  # ``declared`` keeps only artifacts with a remote
            ca = existing[(content_id, da.relative_path)]
            key = (ca.pk, da.remote.pk)
            values = {"url": da.url, "size": da.declared.get("size")}
            for name in CHECKSUM_NAMES:
                values[name] = da.declared.get(name)
            ra = current.get(key)
            if ra is None:
                new_ras[key] = RemoteArtifact(content_artifact=ca, remote=da.remote, **values)
            elif any(getattr(ra, k) != v for k, v in values.items() if v is not None):
                for k, v in values.items():
                    if v is not None:
                        setattr(ra, k, v)
                changed[key] = ra
        if new_ras:
            RemoteArtifact.objects.bulk_create(
                [new_ras[k] for k in sorted(new_ras, key=lambda k: (str(k[0]), str(k[1])))],
                ignore_conflicts=True,
            )
        if changed:
            RemoteArtifact.objects.bulk_update(
                [changed[k] for k in sorted(changed, key=lambda k: (str(k[0]), str(k[1])))],
                ["url", "size", *CHECKSUM_NAMES],
            )


class ContentAssociation(Stage):
    """Add every emitted unit to the new version; in mirror mode remove everything else.

    Reports "Associating Content" (units added) and, when mirroring, "Un-Associating Content"
    (units removed), as Pulp does. What a mirror sync saw is kept in a temporary table, batch by
    batch, so the removal is one set-based statement and memory does not grow with the manifest.
    """

    def __init__(self, new_version: RepositoryVersion, mirror: bool = False):
        self.new_version = new_version
        self.mirror = mirror
        self.seen = TempIdSet()
        self.progress = AsyncProgress("Associating Content", "associating.content")

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            await db(self.seen.drop)

    async def _run(self) -> None:
        async with self.progress:
            async for batch in self.batches():
                pks = [dc.content.pk for dc in batch]
                added = await db(self._add, pks)
                await self.progress.increase_by(added)
                for dc in batch:
                    dc.resolve()
                    await self.put(dc)
            self.progress.report.total = self.progress.done
        if self.mirror:
            async with AsyncProgress("Un-Associating Content", "unassociating.content") as gone:
                removed = await db(self._remove_unlisted)
                gone.report.total = removed
                await gone.increase_by(removed)

    def _add(self, pks: list) -> int:
        version = self.new_version
        if self.mirror:
            self.seen.add(pks)
        before = version._content_relationships().filter(content_id__in=pks).count()
        version.add_content(Content.objects.filter(pk__in=pks))
        return len(set(pks)) - before

    def _remove_unlisted(self) -> int:
        version = self.new_version
        gone = content_not_in(version, self.seen)
        count = gone.count()
        if count:
            version.remove_content(gone)
        return count
