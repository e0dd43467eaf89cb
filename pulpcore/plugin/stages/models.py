"""What a first stage emits: content units and the artifacts they need, not yet saved."""

import asyncio
from typing import Any

from pulpcore.app.models import CHECKSUM_NAMES, Artifact, Content, Remote


class DeclarativeArtifact:
    """An artifact a content unit needs, where to get it, and at which relative path it lives.

    ``artifact`` is usually an unsaved :class:`Artifact` carrying the expected ``size`` and digests
    (they are validated while downloading); later stages replace it with the stored one.
    ``deferred_download`` (on_demand/streamed policies) records only where to fetch it later.
    """

    __slots__ = (
        "artifact",
        "url",
        "relative_path",
        "remote",
        "deferred_download",
        "extra_data",
        "declared",
        "alternates",
    )

    def __init__(
        self,
        artifact: Artifact | None = None,
        url: str | None = None,
        relative_path: str | None = None,
        remote: Remote | None = None,
        deferred_download: bool = False,
        extra_data: dict | None = None,
    ):
        if not url and (artifact is None or artifact._state.adding):
            raise ValueError("A DeclarativeArtifact needs a url or a saved artifact.")
        if not relative_path:
            raise ValueError("A DeclarativeArtifact needs a relative_path.")
        if url and remote is None:
            raise ValueError("A DeclarativeArtifact with a url needs the remote to download with.")
        self.artifact = artifact if artifact is not None else Artifact()
        self.url = url
        self.relative_path = relative_path
        self.remote = remote
        self.deferred_download = deferred_download
        self.extra_data = extra_data or {}
        # What the remote declared, kept after ``artifact`` is swapped for the stored one: it is
        # validated while downloading and recorded on the RemoteArtifact.
        self.declared: dict = {}
        if self.artifact._state.adding:
            self.declared = {
                n: getattr(self.artifact, n).lower()
                for n in CHECKSUM_NAMES
                if getattr(self.artifact, n)
            }
            if self.artifact.size is not None:
                self.declared["size"] = int(self.artifact.size)
        # AcsOffer s (pulpcore.app.queries.acs) tried before ``url``; set by ACSArtifactHandler.
        self.alternates: list = []

    @property
    def saved(self) -> bool:
        return not self.artifact._state.adding

    def expected_digests(self) -> dict[str, str]:
        return {n: v for n, v in self.declared.items() if n != "size"}

    def expected_size(self) -> int | None:
        return self.declared.get("size")

    def __repr__(self) -> str:
        return f"<DeclarativeArtifact {self.relative_path} {self.url}>"


class DeclarativeContent:
    """A content unit to put in the new repository version, with its declarative artifacts."""

    __slots__ = ("content", "d_artifacts", "extra_data", "_future", "links_current")

    def __init__(
        self,
        content: Content,
        d_artifacts: list[DeclarativeArtifact] | None = None,
        extra_data: dict | None = None,
    ):
        if content is None:
            raise ValueError("A DeclarativeContent needs a content unit.")
        self.content = content
        self.d_artifacts = list(d_artifacts or [])
        self.extra_data = extra_data or {}
        self._future: asyncio.Future | None = None
        # Set when the stored unit already has exactly the artifact links this sync declares.
        self.links_current = False

    async def resolution(self) -> Content:
        """Wait until the unit is saved (or found) and return it."""
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        return await self._future

    def resolve(self) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(self.content)

    def __repr__(self) -> str:
        return f"<DeclarativeContent {self.content!r}>"

    def natural_key(self) -> tuple[Any, ...]:
        return self.content.natural_key()
