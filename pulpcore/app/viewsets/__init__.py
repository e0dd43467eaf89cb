"""Core viewsets. Importing this module registers them for URL routing."""

from pulpcore.app.viewsets.access import (  # noqa: F401, E402
    AccessPolicyViewSet,
    GroupRoleViewSet,
    GroupUserViewSet,
    GroupViewSet,
    RolesMixin,
    RoleViewSet,
    UserRoleViewSet,
    UserViewSet,
)
from pulpcore.app.viewsets.acs import AlternateContentSourceViewSet  # noqa: F401  (issue 13)
from pulpcore.app.viewsets.admin import (  # noqa: F401
    ArtifactDistributionViewSet,
    SigningServiceViewSet,
    TaskScheduleViewSet,
)
from pulpcore.app.viewsets.artifact import ArtifactFilter, ArtifactViewSet  # noqa: F401
from pulpcore.app.viewsets.base import (  # noqa: F401
    REGISTRY,
    ListOnlyViewSet,
    NamedModelViewSet,
    ReadOnlyNamedModelViewSet,
)
from pulpcore.app.viewsets.content import (  # noqa: F401, E402
    ContentViewSet,
    ListContentViewSet,
    ReadOnlyContentViewSet,
)
from pulpcore.app.viewsets.contentguard import (  # noqa: F401, E402
    CompositeContentGuardViewSet,
    ContentRedirectContentGuardViewSet,
    HeaderContentGuardViewSet,
    RBACContentGuardViewSet,
)
from pulpcore.app.viewsets.exporter import (  # noqa: F401, E402
    FilesystemExporterViewSet,
    FilesystemExportViewSet,
    PulpExporterViewSet,
    PulpExportViewSet,
)
from pulpcore.app.viewsets.importer import (  # noqa: F401, E402
    PulpImporterViewSet,
    PulpImportViewSet,
)
from pulpcore.app.viewsets.orphans import OrphansCleanupViewSet  # noqa: F401, E402
from pulpcore.app.viewsets.publication import (  # noqa: F401, E402
    ContentGuardViewSet,
    DistributionViewSet,
    ListContentGuardViewSet,
    ListDistributionViewSet,
    ListPublicationViewSet,
    PublicationViewSet,
)
from pulpcore.app.viewsets.replica import UpstreamPulpViewSet  # noqa: F401, E402
from pulpcore.app.viewsets.repository import (  # noqa: F401, E402
    ListRemoteViewSet,
    ListRepositoryVersionViewSet,
    ListRepositoryViewSet,
    RemoteViewSet,
    RepositoryVersionViewSet,
    RepositoryViewSet,
)
from pulpcore.app.viewsets.task import (  # noqa: F401, E402
    TaskFilter,
    TaskGroupViewSet,
    TaskViewSet,
    WorkerFilter,
    WorkerViewSet,
)
from pulpcore.app.viewsets.upload import UploadFilter, UploadViewSet  # noqa: F401, E402
