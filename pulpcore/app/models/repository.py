"""Repositories, their immutable versions, and the remotes they sync from."""

import logging

from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q

from pulpcore.app.models.base import BaseModel, MasterModel
from pulpcore.app.models.content import Content
from pulpcore.app.models.fields import EncryptedTextField
from pulpcore.app.queries import versions as version_queries
from pulpcore.app.queries.sql import pk_subquery

log = logging.getLogger(__name__)


class Remote(MasterModel):
    """Where and how to download content from; plugins subclass it."""

    IMMEDIATE = "immediate"
    ON_DEMAND = "on_demand"
    STREAMED = "streamed"
    POLICY_CHOICES = ((IMMEDIATE, "immediate"), (ON_DEMAND, "on_demand"), (STREAMED, "streamed"))

    name = models.TextField(unique=True)
    url = models.TextField()
    ca_cert = models.TextField(null=True)
    client_cert = models.TextField(null=True)
    client_key = EncryptedTextField(null=True)
    tls_validation = models.BooleanField(default=True)
    username = models.TextField(null=True)
    password = EncryptedTextField(null=True)
    proxy_url = models.TextField(null=True)
    proxy_username = models.TextField(null=True)
    proxy_password = EncryptedTextField(null=True)
    download_concurrency = models.PositiveIntegerField(null=True)
    max_retries = models.PositiveIntegerField(null=True)
    policy = models.TextField(choices=POLICY_CHOICES, default=IMMEDIATE)
    total_timeout = models.FloatField(null=True)
    connect_timeout = models.FloatField(null=True)
    sock_connect_timeout = models.FloatField(null=True)
    sock_read_timeout = models.FloatField(null=True)
    headers = models.JSONField(default=list)
    rate_limit = models.IntegerField(null=True)
    pulp_labels = models.JSONField(default=dict)

    DEFAULT_DOWNLOAD_CONCURRENCY = 10
    DEFAULT_MAX_RETRIES = 3


class Repository(MasterModel):
    """A named, versioned set of content; every change makes a new RepositoryVersion."""

    CONTENT_TYPES: list[type[Content]] = []
    REMOTE_TYPES: list[type[Remote]] = []

    name = models.TextField(unique=True)
    description = models.TextField(null=True)
    next_version = models.PositiveIntegerField(default=0)
    retain_repo_versions = models.PositiveIntegerField(null=True)
    user_hidden = models.BooleanField(default=False)
    pulp_labels = models.JSONField(default=dict)
    remote = models.ForeignKey(Remote, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name_plural = "repositories"

    def add_initial_version(self) -> "RepositoryVersion":
        """Give a new repository its empty, complete version 0 (every repository has one)."""
        with transaction.atomic():
            version = RepositoryVersion.objects.create(repository=self, number=0, complete=True)
            self.next_version = 1
            self.save(update_fields=["next_version"])
        return version

    def latest_version(self) -> "RepositoryVersion | None":
        return self.versions.filter(complete=True).order_by("-number").first() if self.pk else None

    def new_version(self, base_version: "RepositoryVersion | None" = None) -> "RepositoryVersion":
        """Start the next, incomplete version holding ``base_version``'s content (default: the
        latest); nobody sees it until it completes.

        Use it as ``with repository.new_version() as version:`` and change the version inside
        the block: leaving the block completes it, deletes it when nothing changed, or discards
        it when the block raised (see :meth:`RepositoryVersion.__exit__`).
        """
        with transaction.atomic():
            repo = type(self).objects.select_for_update().get(pk=self.pk)
            # Versions are built under an exclusive reservation of the repository, so an
            # incomplete one found now was left by a task that died: undo its changes.
            for stale in repo.versions.filter(complete=False).order_by("-number"):
                stale.delete()
            version = RepositoryVersion(
                repository=repo,
                number=repo.next_version,
                base_version=base_version or repo.latest_version(),
            )
            version.save()
            repo.next_version = F("next_version") + 1
            repo.save(update_fields=["next_version", "pulp_last_updated"])
        self.refresh_from_db(fields=["next_version"])
        version.copy_content_from(version.base_version)
        return version

    def finalize_new_version(self, new_version: "RepositoryVersion") -> None:
        """Hook for plugins to validate or adjust a version before it completes."""

    def cleanup_old_versions(self) -> None:
        """Delete versions beyond ``retain_repo_versions``, never the latest."""
        if not self.retain_repo_versions:
            return
        keep = list(
            self.versions.filter(complete=True)
            .order_by("-number")
            .values_list("pk", flat=True)[: self.retain_repo_versions]
        )
        for version in self.versions.filter(complete=True).exclude(pk__in=keep).order_by("number"):
            version.delete()


class RepositoryVersion(BaseModel):
    """An immutable snapshot of a repository's content, numbered from 0."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(db_index=True)
    complete = models.BooleanField(default=False)
    base_version = models.ForeignKey("self", null=True, on_delete=models.SET_NULL)
    info = models.JSONField(default=dict)

    class Meta:
        unique_together = ("repository", "number")
        ordering = ("number",)

    # --- content of this version (the rule lives in pulpcore.app.queries.versions) -------------
    def _content_relationships(self) -> models.QuerySet:
        return version_queries.memberships(self.repository_id, self.number)

    @property
    def content(self) -> models.QuerySet:
        """All content units present in this version."""
        return version_queries.content_in(self)

    @property
    def content_ids(self) -> models.QuerySet:
        """The ids of :attr:`content` as a values queryset, to nest as ``pk__in=`` without a
        ``Content`` subquery in between (one semi-join on the membership table)."""
        return version_queries.unit_ids(self)

    @property
    def added_content(self) -> models.QuerySet:
        """Units this version added."""
        return version_queries.added_in(self)

    @property
    def removed_content(self) -> models.QuerySet:
        """Units this version removed."""
        return version_queries.removed_in(self)

    def copy_content_from(self, base: "RepositoryVersion | None") -> None:
        """Make this (incomplete, newest) version hold exactly ``base``'s content."""
        if base is None:
            return
        latest = self.repository.versions.exclude(pk=self.pk).order_by("-number").first()
        if latest is None or latest.pk == base.pk:
            return
        current = set(self.content.values_list("pk", flat=True))
        wanted = set(base.content.values_list("pk", flat=True))
        if current - wanted:
            self.remove_content(Content.objects.filter(pk__in=current - wanted))
        if wanted - current:
            self.add_content(Content.objects.filter(pk__in=wanted - current))

    def _check_writable(self) -> None:
        if self.complete:
            raise RuntimeError("A complete repository version is immutable.")

    def add_content(self, content: models.QuerySet) -> int:
        """Add units (a queryset of Content or a detail type) to this incomplete version.

        A unit this version removed (e.g. when it started from an older base version) gets its
        removal undone, so removing and re-adding it is no change. The others are inserted with
        one ``INSERT ... SELECT`` in primary-key order (so concurrent writers lock rows in the
        same order). Returns how many units were new to the version.
        """
        self._check_writable()
        if pk_subquery(content) is None:  # e.g. filtered by an empty list of pks
            return 0
        removed_here = RepositoryContent.objects.filter(version_removed=self)
        restored = 0
        # An indexed EXISTS first: most versions remove nothing before they add, and the UPDATE
        # would otherwise match the whole added set against the table.
        if removed_here.exists():
            restored = removed_here.filter(content_id__in=content.values("pk")).update(
                version_removed=None
            )
        # Correlated NOT EXISTS on the (repository, content) index: the cost follows the size of
        # ``content``, not of the version (``NOT IN`` would hash every membership row per call).
        present = self._content_relationships().filter(content_id=OuterRef("pk"))
        sub = pk_subquery(content.exclude(Exists(present)))
        if sub is None:
            return restored
        sub_sql, sub_params = sub
        table = RepositoryContent._meta.db_table
        sql = f"""
            INSERT INTO {table}
                (pulp_id, pulp_created, pulp_last_updated, repository_id, content_id,
                 version_added_id, version_removed_id)
            SELECT gen_random_uuid(), now(), now(), %s, new.pk, %s, NULL
            FROM ({sub_sql}) AS new (pk)
            ORDER BY new.pk
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.repository_id, self.pk, *sub_params])
            return restored + cursor.rowcount

    def remove_content(self, content: models.QuerySet) -> None:
        """Remove units from this incomplete version."""
        self._check_writable()
        rels = self._content_relationships().filter(content_id__in=content.values("pk"))
        # Units added by this very version simply disappear; others get version_removed.
        rels.filter(version_added=self).delete()
        rels.exclude(version_added=self).update(version_removed=self)

    def next(self) -> "RepositoryVersion | None":
        return (
            self.repository.versions.filter(number__gt=self.number, complete=True)
            .order_by("number")
            .first()
        )

    # --- life cycle: started by Repository.new_version, ended by complete or discard ----------
    def complete_version(self) -> None:
        """Run the repository's ``finalize_new_version`` hook and mark the version complete,
        then its ``on_new_version`` hook (pulp_file's autopublish). Callers wrap it in a
        transaction; ``with repository.new_version()`` does all of that for them."""
        self._check_writable()
        repository = self.repository.cast()
        repository.finalize_new_version(self)
        self.complete = True
        self.save(update_fields=["complete", "info", "pulp_last_updated"])
        hook = getattr(repository, "on_new_version", None)
        if hook is not None:
            hook(self)

    def discard(self) -> None:
        """Delete this incomplete version with every membership row it wrote, and give its
        number back to the repository when it was the last one handed out."""
        self._check_writable()
        with transaction.atomic():
            repo = Repository.objects.select_for_update().get(pk=self.repository_id)
            number = self.number
            self.delete()
            if repo.next_version == number + 1:
                repo.next_version = number
                repo.save(update_fields=["next_version"])

    def finish(self) -> bool:
        """Keep this version if it changed anything, else discard it; return whether it was kept.

        Keeping it completes it (with its hooks) and records it in the running task's
        ``created_resources`` in one transaction, then applies ``retain_repo_versions``. If
        completing fails the version is discarded and the error propagates.
        """
        from pulpcore.tasking.context import record_created

        if not self.has_changes():
            self.discard()
            return False
        try:
            with transaction.atomic():
                self.complete_version()
                record_created(self)
        except BaseException:
            # The transaction rolled back, so the row is still incomplete: throw it away.
            self.complete = False
            self._discard_after_error()
            raise
        self.repository.cast().cleanup_old_versions()
        return True

    def _discard_after_error(self) -> None:
        """Discard while an error is propagating; a failure here is logged, not raised, so the
        caller sees the original error (the next ``new_version`` removes a version left over)."""
        try:
            self.discard()
        except Exception:  # noqa: BLE001 - the original error matters more; logged in full
            log.exception("Could not discard incomplete repository version %s", self.pk)

    def __enter__(self) -> "RepositoryVersion":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        """Leaving ``with repository.new_version() as version:``: on success :meth:`finish`
        (complete, or delete when nothing changed; ``version.complete`` tells which), on an
        error discard the version and let the error propagate."""
        if exc_type is not None:
            self._discard_after_error()
        else:
            self.finish()
        return False

    def has_changes(self) -> bool:
        """Whether this version added or removed any unit."""
        return RepositoryContent.objects.filter(
            Q(version_added=self) | Q(version_removed=self)
        ).exists()

    def delete(self, *args, **kwargs):
        """Fold this version's changes into the next one, then delete it (Pulp semantics)."""
        with transaction.atomic():
            nxt = self.next()
            if nxt is not None:
                # Units this version added that the next removed never existed from nxt's view.
                RepositoryContent.objects.filter(version_added=self, version_removed=nxt).delete()
                RepositoryContent.objects.filter(version_added=self).update(version_added=nxt)
                RepositoryContent.objects.filter(version_removed=self).update(version_removed=nxt)
            else:
                RepositoryContent.objects.filter(version_removed=self).update(version_removed=None)
                RepositoryContent.objects.filter(version_added=self).delete()
            return super().delete(*args, **kwargs)


class RepositoryContent(BaseModel):
    """Membership of a content unit in a repository across a range of versions."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE)
    content = models.ForeignKey(
        Content, on_delete=models.PROTECT, related_name="version_memberships"
    )
    version_added = models.ForeignKey(
        RepositoryVersion, on_delete=models.CASCADE, related_name="added_memberships"
    )
    version_removed = models.ForeignKey(
        RepositoryVersion, null=True, on_delete=models.CASCADE, related_name="removed_memberships"
    )

    class Meta:
        indexes = [models.Index(fields=["repository", "content"])]
