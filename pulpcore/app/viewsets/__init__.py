"""Core viewsets. Importing this module registers them for URL routing."""

from pulpcore.app.viewsets.artifact import ArtifactFilter, ArtifactViewSet  # noqa: F401
from pulpcore.app.viewsets.base import (  # noqa: F401
    REGISTRY,
    ListOnlyViewSet,
    NamedModelViewSet,
    ReadOnlyNamedModelViewSet,
)
from pulpcore.app.viewsets.task import (  # noqa: F401, E402
    TaskFilter,
    TaskGroupViewSet,
    TaskViewSet,
    WorkerFilter,
    WorkerViewSet,
)
