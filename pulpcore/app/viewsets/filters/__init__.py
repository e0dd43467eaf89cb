"""Filtersets of the API lists, one module per domain.

- :mod:`.content`: content units and artifacts
- :mod:`.repository`: repositories, repository versions, remotes
- :mod:`.publication`: publications, distributions, content guards
- :mod:`.task`: tasks and workers
- :mod:`.upload`: chunked uploads
- :mod:`.acs`: alternate content sources
- :mod:`.exchange`: exporters and importers
- :mod:`.admin`: signing services and task schedules
- :mod:`.access`: users, groups, roles, role assignments, access policies
- :mod:`.membership`: which versions hold which units, as subqueries the filters nest

The filter types and the lookup mapping they share are in :mod:`pulpcore.app.filters`; plugins
import both through :mod:`pulpcore.plugin.filters`.
"""
