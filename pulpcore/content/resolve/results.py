"""What resolving a content path returns; plain frozen data, safe to cache and share."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Distro:
    """The distribution a request falls in and what it serves."""

    pk: str
    base_path: str
    content_guard_id: str | None
    version_id: str | None
    version_number: int | None
    repository_id: str | None
    publication_id: str | None
    pass_through: bool
    explicit_publication: bool
    pulp_type: str = ""  # e.g. "core.artifact", which serves artifacts by UUID


@dataclass(frozen=True)
class Match:
    """A file found at the requested relative path."""

    relative_path: str
    content_artifact_id: str | None
    artifact_file: str | None  # name relative to MEDIA_ROOT; None for on-demand content
    size: int | None
    sha256: str | None
    created: datetime | None

    @property
    def on_demand(self) -> bool:
        return self.artifact_file is None


@dataclass(frozen=True)
class Entry:
    """One line of a directory listing."""

    name: str
    is_dir: bool
    size: int | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class Resolution:
    """Outcome of resolving one path."""

    distro: Distro | None = None
    match: Match | None = None
    listing: tuple[Entry, ...] | None = None  # set when the path is a directory
    listing_is_dir: bool = False  # a listing exists (maybe empty, e.g. an empty distribution)


@dataclass
class RemoteSource:
    """A place on-demand content can be downloaded from."""

    remote_id: str
    url: str
    size: int | None
    digests: dict[str, str]
    policy: str
    # An alternate content source's copy: fetched whole and validated before any byte is sent,
    # so a bad copy can still fall back to the next source.
    alternate: str | None = None


@dataclass
class OnDemandInfo:
    """Where an on-demand file can come from, and its stored file if it arrived meanwhile."""

    artifact_file: str | None
    sources: list[RemoteSource] = field(default_factory=list)
