"""Filtersets plugins attach to their list endpoints."""

from pulpcore.app.filters import BaseFilterSet  # noqa: F401
from pulpcore.app.viewsets.filtersets import (  # noqa: F401
    NAME_FILTER_OPTIONS,
    ContentFilter,
    ContentGuardFilter,
    DistributionFilter,
    LabelSelectFilter,
    PublicationFilter,
    RemoteFilter,
    RepositoryFilter,
    RepositoryVersionFilter,
    ordering_filter,
)
