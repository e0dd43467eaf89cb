"""Old home of the filtersets, kept so branches written against it still import.

New code imports filter types from :mod:`pulpcore.app.filters` and filtersets from their domain
module in :mod:`pulpcore.app.viewsets.filters`. Delete this module once nothing imports it.
"""

from pulpcore.app.filters import (  # noqa: F401
    DATETIME_LOOKUPS,
    NAME_FILTER_OPTIONS,
    NUMBER_LOOKUPS,
    CharInFilter,
    ChoiceInFilter,
    DateTimeRangeFilter,
    HrefOrIdFilter,
    HrefOrIdInFilter,
    LabelSelectFilter,
    NumberInRangeFilter,
    PulpTypeFilter,
    PulpTypeInFilter,
    RegexFilter,
    ordering_fields,
    ordering_filter,
    resolve_or_400,
)
from pulpcore.app.viewsets.filters.content import ContentFilter, GenericContentFilter  # noqa: F401
from pulpcore.app.viewsets.filters.publication import (  # noqa: F401
    ContentGuardFilter,
    DistributionFilter,
    GenericContentGuardFilter,
    GenericDistributionFilter,
    GenericPublicationFilter,
    PublicationFilter,
)
from pulpcore.app.viewsets.filters.repository import (  # noqa: F401
    GenericRemoteFilter,
    GenericRepositoryFilter,
    RemoteFilter,
    RepositoryFilter,
    RepositoryVersionFilter,
)
