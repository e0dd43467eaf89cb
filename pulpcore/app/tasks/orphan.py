"""Task: remove content that no repository version contains, and artifacts nothing uses.

Content and artifacts younger than the orphan protection time are kept, so a sync or upload that
created them a moment ago and has not yet added them to a repository version does not lose them.
Database rows go first (in one transaction); files are removed only after the commit, so a failure
never leaves a row pointing at a missing file.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
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
    content = orphaned_content(minutes, content_pks)
    with ProgressReport(
        message="Clean up orphan Content", code="clean-up.content", total=content.count()
    ) as pr:
        with transaction.atomic():
            pks = list(content.values_list("pk", flat=True))
            for start in range(0, len(pks), 1000):
                Content.objects.filter(pk__in=pks[start : start + 1000]).delete()
        pr.done = len(pks)
    artifacts = orphaned_artifacts(minutes)
    with ProgressReport(
        message="Clean up orphan Artifacts", code="clean-up.artifacts", total=artifacts.count()
    ) as pr:
        with transaction.atomic():
            rows = list(artifacts.select_for_update(skip_locked=True).values_list("pk", "file"))
            Artifact.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        storage = Artifact._meta.get_field("file").storage
        for _, name in rows:
            try:
                storage.delete(name)
            except OSError as exc:
                log.warning("Could not remove orphan artifact file %s: %s", name, exc)
        pr.done = len(rows)
    remove_stale_uploads(settings.UPLOAD_PROTECTION_TIME)
    remove_old_tasks(settings.TASK_PROTECTION_TIME)


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
