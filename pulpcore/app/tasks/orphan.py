"""Task: remove content that no repository version contains, and artifacts nothing uses.

Content and artifacts younger than the orphan protection time are kept, so a sync or upload that
created them a moment ago and has not yet added them to a repository version does not lose them.
Database rows go first (in one transaction); files are removed only after the commit, so a failure
never leaves a row pointing at a missing file.
"""

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from pulpcore.app.models import (
    Artifact,
    Content,
    ContentArtifact,
    ProgressReport,
    PublishedArtifact,
    PublishedMetadata,
    RepositoryContent,
    Task,
    Upload,
)
from pulpcore.app.models.task import TASK_FINAL_STATES
from pulpcore.app.queries.sql import TempIdSet, delete_cascading

log = logging.getLogger(__name__)


def orphaned_content(protection_minutes: int, content_pks: list | None = None):
    cutoff = timezone.now() - timedelta(minutes=protection_minutes)
    in_repo = RepositoryContent.objects.filter(content=OuterRef("pk"))
    published = PublishedArtifact.objects.filter(content_artifact__content=OuterRef("pk"))
    qs = Content.objects.filter(timestamp_of_interest__lt=cutoff).exclude(
        Exists(in_repo) | Exists(published)
    )
    if content_pks is not None:
        qs = qs.filter(pk__in=content_pks)
    return qs


def orphaned_artifacts(protection_minutes: int):
    cutoff = timezone.now() - timedelta(minutes=protection_minutes)
    used = ContentArtifact.objects.filter(artifact=OuterRef("pk"))
    metadata = PublishedMetadata.objects.filter(artifact=OuterRef("pk"))
    return Artifact.objects.filter(timestamp_of_interest__lt=cutoff).exclude(
        Exists(used) | Exists(metadata)
    )


def orphan_cleanup(content_pks: list | None = None, orphan_protection_time: int | None = None):
    """Delete orphaned content (optionally only among ``content_pks``), then orphaned artifacts."""
    minutes = (
        settings.ORPHAN_PROTECTION_TIME
        if orphan_protection_time is None
        else int(orphan_protection_time)
    )
    # The ids go to temporary tables and rows are deleted set-based (queries.sql), so neither
    # time per unit nor the worker's memory grows with the number of orphans.
    content = orphaned_content(minutes, content_pks)
    ids = TempIdSet()
    try:
        with ProgressReport(
            message="Clean up orphan Content", code="clean-up.content", total=0
        ) as pr:
            with transaction.atomic():
                pr.total = ids.fill(content)
                ProgressReport.objects.filter(pk=pr.pk).update(total=pr.total)
                delete_cascading(Content, ids.select_sql)
            pr.done = pr.total
        artifacts = orphaned_artifacts(minutes)
        with ProgressReport(
            message="Clean up orphan Artifacts", code="clean-up.artifacts", total=0
        ) as pr:
            with transaction.atomic():
                files = _OrphanFiles()
                pr.total = files.fill(artifacts.select_for_update(skip_locked=True))
                ProgressReport.objects.filter(pk=pr.pk).update(total=pr.total)
                delete_cascading(Artifact, files.select_sql)
            storage = Artifact._meta.get_field("file").storage
            for name in files.names():
                try:
                    storage.delete(name)
                except OSError as exc:
                    log.warning("Could not remove orphan artifact file %s: %s", name, exc)
            files.drop()
            pr.done = pr.total
    finally:
        ids.drop()
    remove_stale_uploads(settings.UPLOAD_PROTECTION_TIME)
    remove_old_tasks(settings.TASK_PROTECTION_TIME)


class _OrphanFiles(TempIdSet):
    """Artifact ids with their file names, so files are removed after the commit in pages."""

    PAGE = 2000

    def fill(self, queryset) -> int:
        self.drop()
        sql, params = queryset.values("pk", "file").order_by().query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.table} ({self.column} uuid PRIMARY KEY, file text)"
            )
            self._created = True
            cursor.execute(f"INSERT INTO {self.table} {sql}", params)
            return cursor.rowcount

    def names(self) -> Iterator[str]:
        last = None
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {self.column}, file FROM {self.table}"
                    + (f" WHERE {self.column} > %s" if last else "")
                    + f" ORDER BY {self.column} LIMIT {self.PAGE}",
                    [last] if last else [],
                )
                rows = cursor.fetchall()
            if not rows:
                return
            for _, name in rows:
                yield name
            last = rows[-1][0]


def remove_stale_uploads(protection_minutes: float) -> int:
    """Delete uploads (and their chunk files) older than UPLOAD_PROTECTION_TIME; 0 keeps all."""
    if not protection_minutes:
        return 0
    from pulpcore.app.tasks.upload import delete_upload

    cutoff = timezone.now() - timedelta(minutes=float(protection_minutes))
    count = 0
    for upload in Upload.objects.filter(pulp_created__lt=cutoff).iterator():
        delete_upload(upload)
        count += 1
    return count


def remove_old_tasks(protection_minutes: float) -> int:
    """Delete tasks that finished more than TASK_PROTECTION_TIME minutes ago; 0 keeps all."""
    if not protection_minutes:
        return 0
    from pulpcore.tasking.context import current_task

    cutoff = timezone.now() - timedelta(minutes=float(protection_minutes))
    qs = Task.objects.filter(state__in=TASK_FINAL_STATES, finished_at__lt=cutoff)
    running = current_task()
    if running is not None:
        qs = qs.exclude(pk=running.pk)
    _, per_model = qs.delete()
    return per_model.get(Task._meta.label, 0)
