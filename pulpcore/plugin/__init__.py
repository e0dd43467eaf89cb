"""The plugin API: the only part of pulpcore that plugins import.

A plugin (see ``pulp_file``) is a Django app whose config subclasses ``PulpPluginAppConfig`` and
whose ``viewsets`` module is imported at startup. What it builds on:

- ``pulpcore.plugin.models``: ``Content``, ``Repository``, ``Remote``, ``Publication``,
  ``Distribution`` (subclass them and set ``TYPE``), plus artifacts and versions.
  ``with repository.new_version() as version:`` builds a version (completed on leaving the block,
  deleted when nothing changed, discarded on error, recorded in the task's created resources).
  ``Repository.finalize_new_version(version)`` may adjust a version before it completes and
  ``on_new_version(version)`` runs right after (pulp_file's autopublish).
- ``pulpcore.plugin.serializers``: ``RepositorySerializer``, ``RemoteSerializer``,
  ``PublicationSerializer``, ``DistributionSerializer``, ``SingleArtifactContentUploadSerializer``
  (override ``content_fields``), ``RelatedField(types=...)`` for hrefs.
- ``pulpcore.plugin.viewsets``: ``ContentViewSet``, ``RepositoryViewSet``,
  ``RepositoryVersionViewSet``, ``RemoteViewSet``, ``PublicationViewSet``,
  ``DistributionViewSet``. Set ``endpoint_name``, ``queryset`` and ``serializer_class``; the URL
  ``<master>/<app label>/<endpoint_name>/`` follows. A versions viewset also sets
  ``endpoint_name = "versions"`` and ``parent_viewset``.
- ``pulpcore.plugin.filters``: ``ContentFilter`` and friends, ``ordering_filter(Model)``.
- ``pulpcore.plugin.tasking``: ``dispatch`` and ``record_created``.
- ``pulpcore.plugin.util``: ``new_version(repository)`` (the same as
  ``repository.new_version()``), ``add_and_remove``,
  ``store_artifact_file``, ``get_url`` / ``resolve_href``.
- ``pulpcore.plugin.stages`` and ``pulpcore.plugin.download``: the sync pipeline and downloaders.
- Content guards (see ``pulp_certguard``): subclass ``models.ContentGuard`` (set ``TYPE``,
  implement ``permit(request)`` raising ``PermissionError`` with a short reason, and
  ``prepare()`` to load or parse what ``permit`` needs so it runs without a query; set
  ``needs_db = True`` if it must query per request), ``serializers.ContentGuardSerializer`` and
  ``viewsets.ContentGuardViewSet`` (``contentguards/<app label>/<endpoint_name>/``). In the guard
  type's migration, ``pulpcore.plugin.migrations.notify_content_app(table)`` makes changes to
  it reach every content app's cache.
"""

from pulpcore.app.apps import PulpPluginAppConfig

__all__ = ["PulpPluginAppConfig"]
