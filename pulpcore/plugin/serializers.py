"""Serializers plugins build their endpoints on."""

from pulpcore.app.serializers.acs import AlternateContentSourceSerializer  # noqa: F401
from pulpcore.app.serializers.base import (  # noqa: F401
    AsyncOperationResponseSerializer,
    HrefListField,
    IdentityField,
    LabelsField,
    ModelSerializer,
    RelatedField,
)
from pulpcore.app.serializers.content import (  # noqa: F401
    ContentChecksumSerializer,
    MultipleArtifactContentSerializer,
    NoArtifactContentSerializer,
    SingleArtifactContentSerializer,
    SingleArtifactContentUploadSerializer,
)
from pulpcore.app.serializers.contentguard import ContentGuardSerializer  # noqa: F401
from pulpcore.app.serializers.publication import (  # noqa: F401
    DistributionSerializer,
    PublicationRepositoryField,
    PublicationSerializer,
)
from pulpcore.app.serializers.repository import (  # noqa: F401
    RemoteSerializer,
    RepairSerializer,
    RepositoryAddRemoveContentSerializer,
    RepositorySerializer,
    RepositorySyncURLSerializer,
    RepositoryVersionSerializer,
)
