"""Viewsets and mixins plugins build their endpoints on."""

from pulpcore.app.viewsets.acs import AlternateContentSourceViewSet  # noqa: F401
from pulpcore.app.viewsets.content import (  # noqa: F401, E402
    ContentViewSet,
    ReadOnlyContentViewSet,
)
from pulpcore.app.viewsets.mixins import (  # noqa: F401
    AsyncCreateMixin,
    AsyncRemoveMixin,
    AsyncUpdateMixin,
    OperationPostponedResponse,
)
from pulpcore.app.viewsets.publication import (  # noqa: F401, E402
    ContentGuardViewSet,
    DistributionViewSet,
    PublicationViewSet,
)
from pulpcore.app.viewsets.repository import (  # noqa: F401, E402
    LabelsMixin,
    RemoteViewSet,
    RepositoryVersionViewSet,
    RepositoryViewSet,
)
