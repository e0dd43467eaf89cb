"""Core serializers. Plugins import them through :mod:`pulpcore.plugin.serializers`."""

from pulpcore.app.serializers.artifact import ArtifactSerializer  # noqa: F401
from pulpcore.app.serializers.base import (  # noqa: F401
    AsyncOperationResponseSerializer,
    FieldSelectionMixin,
    HrefListField,
    IdentityField,
    LabelsField,
    ModelSerializer,
    RelatedField,
    TaskGroupOperationResponseSerializer,
)
from pulpcore.app.serializers.remote import RemoteSerializer  # noqa: F401, E402
from pulpcore.app.serializers.task import (  # noqa: F401, E402
    GroupProgressReportSerializer,
    MinimalTaskSerializer,
    ProgressReportSerializer,
    PurgeSerializer,
    TaskCancelSerializer,
    TaskGroupSerializer,
    TaskSerializer,
    WorkerSerializer,
)
from pulpcore.app.serializers.upload import (  # noqa: F401, E402
    UploadChunkSerializer,
    UploadCommitSerializer,
    UploadDetailSerializer,
    UploadSerializer,
)
