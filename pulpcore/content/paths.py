"""Turning a raw request target into safe path segments, or refusing it.

The content app never touches the filesystem by request path (files are found through the
database), but a path that could mean something else to a proxy, a cache or a later lookup is still
refused outright: dot segments, empty segments, encoded slashes or backslashes, NUL and control
characters.
"""

from dataclasses import dataclass
from urllib.parse import unquote

_FORBIDDEN_ESCAPES = ("%2f", "%5c", "%00")


class BadPath(ValueError):
    """The request target cannot name anything inside a distribution."""


@dataclass(frozen=True)
class ContentPath:
    """A validated path below CONTENT_PATH_PREFIX."""

    segments: tuple[str, ...]
    trailing_slash: bool

    @property
    def relative(self) -> str:
        """The path below the prefix, without leading slash (``""`` for the root)."""
        return "/".join(self.segments)

    def prefixes(self) -> list[str]:
        """Every candidate base path, longest first."""
        return ["/".join(self.segments[:i]) for i in range(len(self.segments), 0, -1)]


def parse_content_path(raw_target: str, prefix: str) -> ContentPath | None:
    """Validate ``raw_target`` (as received, still percent-encoded).

    Returns None when the target is not under ``prefix`` at all; raises :class:`BadPath` when it is
    but cannot be served safely.
    """
    raw = raw_target.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith(prefix):
        return None
    rest = raw[len(prefix) :]
    lowered = rest.lower()
    for esc in _FORBIDDEN_ESCAPES:
        if esc in lowered:
            raise BadPath(f"The path contains a forbidden escape ({esc.upper()}).")
    try:
        decoded = unquote(rest, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadPath("The path is not valid UTF-8.")
    if "\\" in decoded:
        raise BadPath("The path contains a backslash.")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
        raise BadPath("The path contains a control character.")
    if decoded == "":
        return ContentPath((), True)
    trailing = decoded.endswith("/")
    body = decoded[:-1] if trailing else decoded
    segments = tuple(body.split("/"))
    for seg in segments:
        if seg == "":
            raise BadPath("The path contains an empty segment (an absolute or doubled slash).")
        if seg in (".", ".."):
            raise BadPath("The path contains a '.' or '..' segment.")
    return ContentPath(segments, trailing)
