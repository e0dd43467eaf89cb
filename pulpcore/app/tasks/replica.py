"""Replication from an upstream Pulp: make this Pulp's distributions match the upstream's.

``replicate_distributions`` (the first task of the replicate TaskGroup) reads every upstream
distribution of each replicated type through the upstream's REST API, then adds to the group one
``replicate_distribution`` task per distribution (remote + repository + distribution named after
it, synced and served) and one ``remove_stale_replicas`` task. Whatever this upstream creates is
labelled ``UpstreamPulp: <pk>``; only objects carrying that label are ever changed or removed, so
objects made by hand are never touched. An upstream that cannot be read (unreachable, 401, 404,
an answer that is not a distribution list) fails the first task before anything is dispatched,
so nothing is removed downstream.

Plugins say what they replicate with a ``replica`` module next to their models (``<app>.replica``)
defining ``REPLICATORS``: :class:`Replicator` subclasses, see ``pulp_file.app.replica``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.db import transaction

from pulpcore.app.models import (
    Distribution,
    Remote,
    Repository,
    TaskGroup,
    UpstreamPulp,
)
from pulpcore.download.base import DownloadError
from pulpcore.download.factory import DownloaderFactory
from pulpcore.plugin.stages import run_async
from pulpcore.tasking.context import current_task

log = logging.getLogger(__name__)

LABEL = "UpstreamPulp"
PAGE_SIZE = 100


class UpstreamError(RuntimeError):
    """The upstream Pulp could not be read; the message says which URL and why."""


class ReplicaConflict(RuntimeError):
    """A downstream object in the way was not made by this upstream: it is left alone."""


class Replicator:
    """How one distribution type is replicated; plugins subclass it in ``<app>.replica``."""

    # Upstream list endpoint below ``api/v3/``, e.g. ``distributions/file/file/``.
    distribution_endpoint: ClassVar[str]
    remote_model: ClassVar[type[Remote]]
    repository_model: ClassVar[type[Repository]]
    distribution_model: ClassVar[type[Distribution]]

    def __init__(self, upstream: UpstreamPulp, client: UpstreamClient):
        self.upstream = upstream
        self.client = client

    def source_url(self, distribution: dict) -> str | None:
        """URL a remote syncs this upstream distribution from; None when it serves nothing."""
        raise NotImplementedError

    def repository_fields(self, distribution: dict, url: str) -> dict:
        """Extra fields of the downstream repository (e.g. a manifest name)."""
        return {}

    def sync_and_serve(self, remote: Remote, repository: Repository) -> None:
        """Mirror the remote into the repository and make its latest version servable."""
        raise NotImplementedError


def replicators() -> list[type[Replicator]]:
    """Every Replicator the installed plugins ship, in app order."""
    found: list[type[Replicator]] = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.replica")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.replica":
                raise
            continue
        found.extend(getattr(module, "REPLICATORS", []))
    return found


def replicator_named(path: str) -> type[Replicator]:
    for cls in replicators():
        if f"{cls.__module__}.{cls.__qualname__}" == path:
            return cls
    raise LookupError(f"No installed plugin replicates with {path}.")


# --- reading the upstream -------------------------------------------------------------------------
class UpstreamClient:
    """GETs JSON from the upstream's API with its credentials and TLS settings.

    It reuses the download factory (auth, client certificates, CA, tls_validation, retries of
    transient failures) with the UpstreamPulp in the place of a remote.
    """

    def __init__(self, upstream: UpstreamPulp):
        self.upstream = upstream
        root = f"{upstream.base_url.rstrip('/')}/{upstream.api_root.strip('/')}/"
        if upstream.domain:
            root += f"{upstream.domain.strip('/')}/"
        self.api = root + "api/v3/"

    def url_of(self, href: str) -> str:
        """An href of the upstream (``/pulp/api/v3/...``) as a URL on the upstream."""
        return self.upstream.base_url.rstrip("/") + "/" + href.lstrip("/")

    def get_json(self, url: str) -> Any:
        return run_async(self._get_json, url)

    async def _get_json(self, url: str) -> Any:
        async with DownloaderFactory(self.upstream) as factory:
            try:
                result = await factory.build(url).run()
            except DownloadError as exc:
                raise UpstreamError(
                    f"Could not read upstream pulp '{self.upstream.name}': {exc}"
                ) from exc
        try:
            with open(result.path, "rb") as fp:
                raw = fp.read()
        finally:
            os.unlink(result.path)
        try:
            return json.loads(raw)
        except ValueError:
            raise UpstreamError(
                f"Upstream pulp '{self.upstream.name}' answered {url} with something that is "
                "not JSON; check its base_url and api_root."
            ) from None

    def list_all(self, endpoint: str) -> list[dict]:
        """Every object of a list endpoint, page by page (limit/offset), label-filtered."""
        items: list[dict] = []
        offset = 0
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": offset}
            if self.upstream.pulp_label_select:
                params["pulp_label_select"] = self.upstream.pulp_label_select
            url = f"{self.api}{endpoint}?{urlencode(params)}"
            page = self.get_json(url)
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list) or not isinstance(page.get("count"), int):
                raise UpstreamError(
                    f"Upstream pulp '{self.upstream.name}' answered {url} with something that "
                    "is not a Pulp list (no count and results); check its base_url and api_root."
                )
            for item in results:
                if not isinstance(item, dict) or not item.get("name") or not item.get("base_path"):
                    raise UpstreamError(
                        f"Upstream pulp '{self.upstream.name}' listed a distribution without a "
                        f"name or base_path at {url}."
                    )
            items.extend(results)
            offset += len(results)
            if not results or offset >= page["count"]:
                return items


# --- tasks ----------------------------------------------------------------------------------------
def owned_by(upstream_pk: str) -> dict:
    """The label lookup of objects this upstream created."""
    return {"pulp_labels__contains": {LABEL: str(upstream_pk)}}


def _upstream(upstream_pk: str) -> UpstreamPulp:
    upstream = UpstreamPulp.objects.filter(pk=upstream_pk).first()
    if upstream is None:
        raise UpstreamError("The upstream pulp was deleted before its replication ran.")
    return upstream


def replicate_distributions(upstream_pk: str) -> None:
    """Plan a replication: read the upstream, then dispatch the per-distribution tasks and the
    cleanup into this task's group. Raises (and dispatches nothing) if the upstream can't be read.
    """
    from pulpcore.tasking.dispatch import dispatch

    task = current_task()
    group = task.task_group if task is not None else None
    try:
        upstream = _upstream(upstream_pk)
        client = UpstreamClient(upstream)
        plan: list[tuple[type[Replicator], dict, str]] = []
        for cls in replicators():
            replicator = cls(upstream, client)
            for distribution in client.list_all(cls.distribution_endpoint):
                url = replicator.source_url(distribution)
                if url is None:
                    log.info("Upstream distribution %s serves nothing: skipped.", distribution)
                    continue
                plan.append((cls, distribution, url))
        names = [distribution["name"] for _, distribution, _ in plan]
        with transaction.atomic():
            for cls, distribution, url in plan:
                name = distribution["name"]
                in_the_way = [
                    obj
                    for model in (Remote, Repository, Distribution)
                    for obj in model.objects.filter(name=name)
                ]
                dispatch(
                    replicate_distribution,
                    kwargs={
                        "upstream_pk": str(upstream.pk),
                        "replicator": f"{cls.__module__}.{cls.__qualname__}",
                        "distribution": distribution,
                        "url": url,
                    },
                    exclusive_resources=[f"pdrn:core.replica:{name}", *in_the_way],
                    shared_resources=[upstream],
                    task_group=group,
                )
            stale = [
                obj
                for model in (Distribution, Repository, Remote)
                for obj in model.objects.filter(**owned_by(upstream.pk)).exclude(name__in=names)
            ]
            dispatch(
                remove_stale_replicas,
                kwargs={"upstream_pk": str(upstream.pk), "keep_names": names},
                exclusive_resources=stale or [f"pdrn:core.replica-cleanup:{upstream.pk}"],
                shared_resources=[upstream],
                task_group=group,
            )
    finally:
        if group is not None:
            TaskGroup.objects.filter(pk=group.pk).update(all_tasks_dispatched=True)


def _own_or_refuse(model, upstream: UpstreamPulp, kind: str, **lookup):
    """The object matching ``lookup`` if this upstream made it, None if there is none; an object
    someone else made is refused (ReplicaConflict) so it is never changed."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return None
    if (obj.pulp_labels or {}).get(LABEL) != str(upstream.pk):
        where = ", ".join(f"{k}={v!r}" for k, v in lookup.items())
        raise ReplicaConflict(
            f"A {kind} with {where} already exists and was not created by upstream pulp "
            f"'{upstream.name}'; it is left untouched and this distribution is not replicated. "
            "Rename or remove it, or set pulp_label_select to skip this distribution."
        )
    return obj.cast()


def replicate_distribution(upstream_pk: str, replicator: str, distribution: dict, url: str) -> None:
    """Create or update the remote, repository and distribution of one upstream distribution,
    sync, and serve the result. Every conflict is checked before anything is written."""
    upstream = _upstream(upstream_pk)
    cls = replicator_named(replicator)
    helper = cls(upstream, UpstreamClient(upstream))
    name, base_path = distribution["name"], distribution["base_path"]
    label = {LABEL: str(upstream.pk)}

    remote = _own_or_refuse(Remote, upstream, "remote", name=name)
    repository = _own_or_refuse(Repository, upstream, "repository", name=name)
    local = _own_or_refuse(Distribution, upstream, "distribution", name=name)
    clash = Distribution.objects.filter(Distribution.overlapping(base_path))
    if local is not None:
        clash = clash.exclude(pk=local.pk)
    if clash.exists():
        raise ReplicaConflict(
            f"The base path '{base_path}' of upstream distribution '{name}' overlaps the base "
            f"path of distribution '{clash.first().name}', which upstream pulp "
            f"'{upstream.name}' did not create; the distribution is not replicated."
        )
    for obj, model in ((remote, cls.remote_model), (repository, cls.repository_model)):
        if obj is not None and not isinstance(obj, model):
            raise ReplicaConflict(
                f"'{name}' already exists as a {obj.pulp_type} object; it is not replicated."
            )

    remote_fields = {
        "url": url,
        "policy": settings.REPLICATE_REMOTE_POLICY,
        "ca_cert": upstream.ca_cert,
        "client_cert": upstream.client_cert,
        "client_key": upstream.client_key,
        "tls_validation": upstream.tls_validation,
        "username": upstream.username,
        "password": upstream.password,
    }
    with transaction.atomic():
        if remote is None:
            remote = cls.remote_model.objects.create(name=name, pulp_labels=label, **remote_fields)
        else:
            _update(remote, remote_fields)
        repository_fields = {"remote": remote, **helper.repository_fields(distribution, url)}
        if repository is None:
            repository = cls.repository_model.objects.create(
                name=name, pulp_labels=label, **repository_fields
            )
            repository.add_initial_version()
        else:
            _update(repository, repository_fields)

    helper.sync_and_serve(remote, repository)

    labels = {**(distribution.get("pulp_labels") or {}), **label}
    with transaction.atomic():
        if local is None:
            cls.distribution_model.objects.create(
                name=name, base_path=base_path, repository=repository, pulp_labels=labels
            )
        else:
            _update(
                local,
                {
                    "base_path": base_path,
                    "repository": repository,
                    "publication": None,
                    "repository_version": None,
                    "pulp_labels": labels,
                },
            )


def _update(obj, fields: dict) -> None:
    """Save only the fields that differ: an unchanged remote keeps its ``pulp_last_updated``, so
    the next sync sees the same remote and manifest and makes no new version."""
    changed = [key for key, value in fields.items() if getattr(obj, key) != value]
    if changed:
        for key in changed:
            setattr(obj, key, fields[key])
        obj.save(update_fields=[*changed, "pulp_last_updated"])


def remove_stale_replicas(upstream_pk: str, keep_names: list[str]) -> dict:
    """Delete what this upstream created whose distribution the upstream no longer has."""
    lookup = owned_by(upstream_pk)
    removed: dict[str, list[str]] = {}
    with transaction.atomic():
        for kind, model in (
            ("distributions", Distribution),
            ("repositories", Repository),
            ("remotes", Remote),
        ):
            stale = list(model.objects.filter(**lookup).exclude(name__in=keep_names))
            removed[kind] = sorted(obj.name for obj in stale)
            for obj in stale:
                obj.cast().delete()
    log.info("Replication of upstream %s removed %s", upstream_pk, removed)
    return removed
