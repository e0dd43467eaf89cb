"""Alternate content sources: nearby places that offer the same files as far remotes.

An ACS names an ``on_demand`` remote and optional ``paths`` below its URL. Refreshing it syncs each
path (without downloading) into a hidden repository owned by the path, so the RemoteArtifacts of
those repositories say which checksums the ACS offers. Which ACS offers what is decided in one
place, :mod:`pulpcore.app.queries.acs`, used by the sync pipeline and the content app alike.
"""

from urllib.parse import urljoin

from django.db import models, transaction

from pulpcore.app.models.base import BaseModel, MasterModel
from pulpcore.app.models.repository import Remote, Repository


class AlternateContentSource(MasterModel):
    """A remote (policy ``on_demand``) to prefer over any repository's own remote, by checksum.

    Plugins subclass it and name the hidden repository type refresh syncs into
    (``REPOSITORY_TYPE``).
    """

    REPOSITORY_TYPE: type[Repository] | None = None

    name = models.TextField(unique=True)
    last_refreshed = models.DateTimeField(null=True)
    remote = models.ForeignKey(Remote, on_delete=models.PROTECT, related_name="+")

    def path_list(self) -> list[str]:
        return sorted(p.path for p in self.paths.all() if p.path)

    def set_paths(self, paths: list[str]) -> None:
        """Make the ACS offer exactly ``paths`` ("" = the remote's own URL); paths dropped lose
        their hidden repositories, so nothing stale is offered any more."""
        wanted = set(paths) or {""}
        with transaction.atomic():
            stale = list(self.paths.exclude(path__in=wanted))
            for path in stale:
                path.delete()
            have = set(self.paths.values_list("path", flat=True))
            AlternateContentSourcePath.objects.bulk_create(
                AlternateContentSourcePath(alternate_content_source=self, path=p)
                for p in sorted(wanted - have)
            )

    def delete(self, *args, **kwargs):
        """Deleting an ACS deletes the hidden repositories its refreshes made."""
        with transaction.atomic():
            for path in self.paths.all():
                path.delete()
            return super().delete(*args, **kwargs)


class AlternateContentSourcePath(BaseModel):
    """One place an ACS offers (its remote's URL joined with ``path``) and the hidden repository
    whose latest version records what was found there at the last refresh."""

    alternate_content_source = models.ForeignKey(
        AlternateContentSource, on_delete=models.CASCADE, related_name="paths"
    )
    path = models.TextField(default="")
    repository = models.OneToOneField(
        Repository, null=True, on_delete=models.SET_NULL, related_name="acs_path"
    )

    class Meta:
        unique_together = ("alternate_content_source", "path")

    def url(self, remote: Remote) -> str:
        """Where this path lives: the remote's URL with ``path`` appended (as Pulp does)."""
        if not self.path:
            return remote.url
        base = remote.url if remote.url.endswith("/") else remote.url + "/"
        return urljoin(base, self.path.lstrip("/"))

    def ensure_repository(self) -> Repository:
        """The hidden repository of this path, created (with its empty version 0) on first use."""
        if self.repository_id is not None:
            return self.repository.cast()
        acs = self.alternate_content_source.cast()
        model = acs.REPOSITORY_TYPE
        if model is None:
            raise TypeError(f"{type(acs).__name__} names no REPOSITORY_TYPE to refresh into.")
        with transaction.atomic():
            repository = model.objects.create(name=f"acs-{self.pk}", user_hidden=True)
            repository.add_initial_version()
            self.repository = repository
            self.save(update_fields=["repository", "pulp_last_updated"])
        return repository

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            repository = self.repository
            result = super().delete(*args, **kwargs)
            if repository is not None:
                repository.delete()
            return result
