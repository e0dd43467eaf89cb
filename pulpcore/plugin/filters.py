"""Filtersets and filter types plugins attach to their list endpoints.

A plugin filterset subclasses the core one for its kind of object and declares its own lookups in
``Meta.fields``, e.g. ``fields = {"relative_path": ["exact", "in"]}``; ``BaseFilterSet`` maps
each lookup to Pulp's filter type (validated regexes, ``__ne`` as exclusion, checked dates).
"""

from pulpcore.app.filters import (  # noqa: F401
    DATETIME_LOOKUPS,
    NAME_FILTER_OPTIONS,
    NUMBER_LOOKUPS,
    BaseFilterSet,
    CharInFilter,
    HrefOrIdFilter,
    HrefOrIdInFilter,
    LabelSelectFilter,
    OrderingFilter,
    PulpTypeFilter,
    PulpTypeInFilter,
    ordering_filter,
)
from pulpcore.app.viewsets.filters.content import ContentFilter  # noqa: F401
from pulpcore.app.viewsets.filters.publication import (  # noqa: F401
    ContentGuardFilter,
    DistributionFilter,
    PublicationFilter,
)
from pulpcore.app.viewsets.filters.repository import (  # noqa: F401
    RemoteFilter,
    RepositoryFilter,
    RepositoryVersionFilter,
)
