"""Core models. Plugins import them through :mod:`pulpcore.plugin.models`."""

from pulpcore.app.models.access import AccessPolicy, Group, GroupRole, Role, UserRole
from pulpcore.app.models.acs import AlternateContentSource, AlternateContentSourcePath
from pulpcore.app.models.artifact_distribution import ArtifactDistribution  # noqa: E402
from pulpcore.app.models.base import AppStatus, BaseModel, MasterModel
from pulpcore.app.models.content import (
    CHECKSUM_NAMES,
    Artifact,
    ArtifactMismatch,
    Content,
    ContentArtifact,
    RemoteArtifact,
    new_temp_path,
)
from pulpcore.app.models.contentguard import (
    CompositeContentGuard,
    ContentGuard,
    ContentRedirectContentGuard,
    HeaderContentGuard,
    RBACContentGuard,
)
from pulpcore.app.models.exporter import (
    Exporter,
    FilesystemExport,
    FilesystemExporter,
    PulpExport,
    PulpExporter,
)
from pulpcore.app.models.importer import Importer, PulpImport, PulpImporter
from pulpcore.app.models.publication import (
    Distribution,
    Publication,
    PublishedArtifact,
    PublishedMetadata,
)
from pulpcore.app.models.replica import UpstreamPulp  # noqa: E402
from pulpcore.app.models.repository import (
    Remote,
    Repository,
    RepositoryContent,
    RepositoryVersion,
)
from pulpcore.app.models.schedule import TaskSchedule  # noqa: E402
from pulpcore.app.models.signing import SigningService  # noqa: E402
from pulpcore.app.models.task import (
    TASK_FINAL_STATES,
    TASK_INCOMPLETE_STATES,
    TASK_STATES,
    CreatedResource,
    GroupProgressReport,
    ProgressReport,
    Task,
    TaskGroup,
    Worker,
)
from pulpcore.app.models.upload import Upload, UploadChunk

__all__ = [
    "AccessPolicy",
    "PulpImporter",
    "PulpImport",
    "PulpExporter",
    "PulpExport",
    "Importer",
    "FilesystemExporter",
    "FilesystemExport",
    "Exporter",
    "AppStatus",
    "Artifact",
    "ArtifactDistribution",
    "ArtifactMismatch",
    "BaseModel",
    "CHECKSUM_NAMES",
    "Content",
    "ContentArtifact",
    "CompositeContentGuard",
    "ContentGuard",
    "ContentRedirectContentGuard",
    "HeaderContentGuard",
    "RBACContentGuard",
    "CreatedResource",
    "Distribution",
    "Group",
    "GroupProgressReport",
    "GroupRole",
    "MasterModel",
    "ProgressReport",
    "Publication",
    "PublishedArtifact",
    "PublishedMetadata",
    "Remote",
    "RemoteArtifact",
    "Repository",
    "RepositoryContent",
    "RepositoryVersion",
    "Role",
    "SigningService",
    "TASK_FINAL_STATES",
    "TASK_INCOMPLETE_STATES",
    "TASK_STATES",
    "Task",
    "TaskGroup",
    "TaskSchedule",
    "Upload",
    "UploadChunk",
    "UpstreamPulp",
    "UserRole",
    "Worker",
    "new_temp_path",
    # alternate content sources (issue 13)
    "AlternateContentSource",
    "AlternateContentSourcePath",
]
