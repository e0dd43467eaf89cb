"""HTTP semantics of serving a stored artifact: validators, conditional requests, ranges, sendfile.

aiohttp's FileResponse stats and opens the file in a thread pool, probes for ``.gz``/``.br``
siblings and names the type after the file on disk. Artifacts are content-addressed files with no
extension whose sha256 is known, so this response uses the sha256 as a strong ETag, takes the type
from the published relative path, opens the file directly (a local open of a cached inode costs
microseconds) and hands the bytes to the kernel with ``loop.sendfile``.
"""

import asyncio
import functools
import html
import mimetypes
import os
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import quote

from aiohttp import hdrs, web

from pulpcore.content.resolve import Entry

_ENCODING_TYPES = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "br": "application/x-brotli",
    "compress": "application/x-compress",
}
_types = mimetypes.MimeTypes()
SMALL_FILE = 64 * 1024  # below this, read + one send beats sendfile


@functools.lru_cache(maxsize=4096)
def content_type_for(relative_path: str) -> str:
    """Content-Type from the file name; compressed files are typed as the archive, not its body."""
    ctype, encoding = _types.guess_type(relative_path, strict=False)
    if encoding:
        return _ENCODING_TYPES.get(encoding, "application/octet-stream")
    return ctype or "application/octet-stream"


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """Parse a single byte range against ``size``.

    Returns (start, end_inclusive) for a satisfiable range, False when unsatisfiable (416), and
    None when the header should be ignored (malformed or several ranges: a full 200 is allowed).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec or "," in spec:
        return None
    first, sep, last = spec.strip().partition("-")
    if not sep:
        return None
    first, last = first.strip(), last.strip()
    if (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:
        if not last:
            return None
        length = int(last)
        if length == 0 or size == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return False
    return start, min(end, size - 1)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _etag_list(value: str) -> list[tuple[str, bool]]:
    """(opaque tag, weak) pairs of an If-Match/If-None-Match header; ``*`` stays ``*``."""
    tags = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        weak = part.startswith("W/")
        tags.append((part[2:] if weak else part, weak))
    return tags


def _matches(etag: str, header: str, weak_ok: bool) -> bool:
    for tag, weak in _etag_list(header):
        if tag == "*" or (tag == etag and (weak_ok or not weak)):
            return True
    return False


class ArtifactResponse(web.StreamResponse):
    """Serves one stored file with HTTP validators and single byte ranges."""

    def __init__(
        self,
        path: str,
        relative_path: str,
        sha256: str | None,
        created: datetime | None,
        accel_prefix: str | None = None,
        artifact_name: str | None = None,
        small_files: "SmallFiles | None" = None,
    ):
        super().__init__()
        self._small = small_files
        self._file_path = path
        self._relative_path = relative_path
        self._etag_value = f'"{sha256}"' if sha256 else None
        self._created = created
        self._accel = (accel_prefix.rstrip("/") + "/" + artifact_name) if accel_prefix else None

    async def prepare(self, request: web.BaseRequest):  # type: ignore[override]
        if self.prepared:  # aiohttp prepares again what a handler returns; nothing left to do
            return await super().prepare(request)
        # Set the header directly: the content_type property would parse it back.
        self._headers[hdrs.CONTENT_TYPE] = content_type_for(self._relative_path)
        if self._accel:
            # nginx serves the bytes (ranges, validators) from its internal location.
            self.headers["X-Accel-Redirect"] = quote(self._accel)
            self.content_length = 0
            return await super().prepare(request)
        kept = self._small.get(self._file_path) if self._small is not None else None
        if kept is not None:
            return await self._send(request, kept[1], body=kept[0])
        try:
            fd = os.open(self._file_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise MissingArtifactFile(self._file_path)
        keep = False
        try:
            st = os.fstat(fd)
            if self._small is not None and st.st_size <= SMALL_FILE:
                body = os.pread(fd, st.st_size, 0)
                keep = len(body) == st.st_size and self._small.put(self._file_path, fd, body, st)
                return await self._send(request, st, body=body)
            return await self._send(request, st, fd=fd)
        finally:
            if not keep:
                os.close(fd)

    async def _send(
        self,
        request: web.BaseRequest,
        st: os.stat_result,
        fd: int | None = None,
        body: bytes | None = None,
    ):
        size = st.st_size
        etag = self._etag_value or f'"{st.st_mtime_ns:x}-{size:x}"'
        mtime = int(self._created.timestamp() if self._created else st.st_mtime)
        self.headers[hdrs.ETAG] = etag
        self.headers[hdrs.LAST_MODIFIED] = _format_http_date(mtime)
        self.headers[hdrs.ACCEPT_RANGES] = "bytes"
        h = request.headers

        # RFC 9110 13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, If-Range
        if (im := h.get(hdrs.IF_MATCH)) is not None:
            if not _matches(etag, im, weak_ok=False):
                return await self._empty(request, 412)
        elif (ius := _http_date(h.get(hdrs.IF_UNMODIFIED_SINCE))) is not None:
            if mtime > ius.timestamp():
                return await self._empty(request, 412)
        if (inm := h.get(hdrs.IF_NONE_MATCH)) is not None:
            if _matches(etag, inm, weak_ok=True):
                return await self._empty(request, 304 if request.method in ("GET", "HEAD") else 412)
        elif (ims := _http_date(h.get(hdrs.IF_MODIFIED_SINCE))) is not None:
            if request.method in ("GET", "HEAD") and mtime <= ims.timestamp():
                return await self._empty(request, 304)

        start, count = 0, size
        rng_header = h.get(hdrs.RANGE)
        if rng_header is not None and request.method in ("GET", "HEAD"):
            honour = True
            if (if_range := h.get(hdrs.IF_RANGE)) is not None:
                if if_range.startswith('"') or if_range.startswith("W/"):
                    honour = if_range == etag
                else:
                    ir = _http_date(if_range)
                    honour = ir is not None and mtime <= ir.timestamp()
            if honour:
                rng = parse_range(rng_header, size)
                if rng is False:
                    self.headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"
                    return await self._empty(request, 416)
                if rng:
                    start, end = rng
                    count = end - start + 1
                    self.set_status(206)
                    self.headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{end}/{size}"

        self.content_length = count
        if request.method == "HEAD" or count == 0:
            writer = await super().prepare(request)
            await super().write_eof()
            return writer
        if count <= SMALL_FILE:
            # One read and one send for headers and body together: cheaper than sendfile's
            # extra syscalls and event-loop round trips at this size.
            self._send_headers_immediately = False
            writer = await super().prepare(request)
            await writer.write(
                body[start : start + count] if body is not None else os.pread(fd, count, start)
            )
            await super().write_eof()
            return writer
        assert fd is not None  # files above SMALL_FILE are never kept in memory
        writer = await super().prepare(request)
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        if transport.get_extra_info("socket") is None:  # e.g. TLS: copy through user space
            await self._copy(writer, fd, start, count)
        else:
            await sendfile(transport, fd, start, count)
        await super().write_eof()
        return writer

    @staticmethod
    async def _copy(writer, fd: int, offset: int, count: int) -> None:
        while count > 0:
            chunk = os.pread(fd, min(count, 256 * 1024), offset)
            if not chunk:
                raise ConnectionResetError("file shorter than its size")
            await writer.write(chunk)
            offset += len(chunk)
            count -= len(chunk)

    async def _empty(self, request: web.BaseRequest, status: int):
        self.set_status(status)
        if status == 304:
            self.headers.pop(hdrs.CONTENT_TYPE, None)
        else:
            self.content_length = 0
        return await super().prepare(request)


async def sendfile(transport: asyncio.Transport, fd: int, offset: int, count: int) -> None:
    """Send ``count`` bytes of ``fd`` from ``offset`` to the transport's socket with sendfile(2).

    Works on any event loop (uvloop has no ``loop.sendfile``): the kernel takes what the socket
    buffer holds at once, then the loop says when there is room again. Waits first for whatever
    the transport still buffers (the headers), so bytes never overtake it. The socket is used
    through a duplicate descriptor, so a transport closed meanwhile can't leave us writing to a
    reused descriptor number, and the loop's writer callback doesn't clash with the transport's.
    """
    sock = transport.get_extra_info("socket")
    loop = asyncio.get_running_loop()
    out = os.dup(sock.fileno())
    try:
        while count > 0:
            if transport.is_closing():
                raise ConnectionResetError("Connection lost")
            if not transport.get_write_buffer_size():
                try:
                    sent = os.sendfile(out, fd, offset, count)
                except (BlockingIOError, InterruptedError):
                    sent = -1
                if sent == 0:
                    raise ConnectionResetError("file shorter than its size")
                if sent > 0:
                    offset += sent
                    count -= sent
                    continue
            writable = loop.create_future()
            loop.add_writer(out, _settle, writable)
            try:
                await writable
            finally:
                loop.remove_writer(out)
    finally:
        os.close(out)


def _settle(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class SmallFiles:
    """Small stored files kept open and in memory, each checked with one fstat per request.

    On a cache hit the path lookup of ``open`` and the ``pread`` were 40 % of a 16 KiB request's
    time. Artifacts are content-addressed, so a kept body stays right for as long as its file
    exists; the descriptor held open tells whether it still does: a file deleted or replaced by
    a rename (orphan cleanup, repair) has no links left (``st_nlink == 0``), so the entry is
    dropped and the path opened again: a missing file is still a 404 on the next request, a
    repaired one is served fresh. Bounded by entries (descriptors) and bytes; only the event
    loop's thread uses it.
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = 32 * 1024 * 1024):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: dict[str, tuple[bytes, os.stat_result, int]] = {}
        self._bytes = 0

    def get(self, path: str) -> tuple[bytes, os.stat_result] | None:
        entry = self._entries.get(path)
        if entry is None:
            return None
        body, st, fd = entry
        try:
            now = os.fstat(fd)
        except OSError:
            now = None
        if now is None or now.st_nlink == 0 or now.st_size != st.st_size:
            self._drop(path)
            return None
        return body, st

    def put(self, path: str, fd: int, body: bytes, st: os.stat_result) -> bool:
        """Keep ``fd`` (then owned here) and ``body``; False when it doesn't fit."""
        if path in self._entries or len(body) > self.max_bytes:
            return False
        while self._entries and (
            len(self._entries) >= self.max_entries or self._bytes + len(body) > self.max_bytes
        ):
            self._drop(next(iter(self._entries)))  # oldest first (dicts keep insertion order)
        self._entries[path] = (body, st, fd)
        self._bytes += len(body)
        return True

    def clear(self) -> None:
        for path in list(self._entries):
            self._drop(path)

    def _drop(self, path: str) -> None:
        body, _, fd = self._entries.pop(path)
        self._bytes -= len(body)
        os.close(fd)


class MissingArtifactFile(FileNotFoundError):
    """The database names an artifact whose file is not in storage."""


@functools.lru_cache(maxsize=4096)
def _format_http_date(ts: int) -> str:
    return formatdate(ts, usegmt=True)


def _human(size: int | None) -> str:
    return "-" if size is None else str(size)


def listing_page(request_path: str, entries: tuple[Entry, ...], show_parent: bool) -> str:
    """An nginx-autoindex-like HTML page: links, dates and sizes."""
    title = html.escape(request_path)
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        f"<head><meta charset='utf-8'><title>Index of {title}</title></head>",
        f"<body><h1>Index of {title}</h1><hr><pre>",
    ]
    if show_parent:
        lines.append('<a href="../">../</a>')
    for e in entries:
        name = e.name + ("/" if e.is_dir else "")
        href = quote(name)
        label = html.escape(name)
        pad = " " * max(1, 52 - len(name))
        date = e.created.strftime("%d-%b-%Y %H:%M") if e.created else ""
        size = "-" if e.is_dir else _human(e.size)
        lines.append(f'<a href="{href}">{label}</a>{pad}{date:<17} {size:>12}')
    lines += ["</pre><hr></body>", "</html>", ""]
    return "\n".join(lines)
