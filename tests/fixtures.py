"""Test fixtures made on the fly: directories of random files with a PULP_MANIFEST, served over
HTTP by a real local server (with switches to misbehave: 404s, corrupted bytes, slow answers)."""

import functools
import hashlib
import http.server
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileEntry:
    relative_path: str
    sha256: str
    size: int


@dataclass
class FileFixture:
    """A directory holding files and a ``PULP_MANIFEST`` that lists them."""

    root: Path
    entries: list[FileEntry] = field(default_factory=list)

    @property
    def manifest(self) -> Path:
        return self.root / "PULP_MANIFEST"

    def by_path(self) -> dict[str, FileEntry]:
        return {e.relative_path: e for e in self.entries}


def make_file_fixture(
    root: Path, count: int = 3, size: int = 1024, subdir: str | None = None, seed: str = ""
) -> FileFixture:
    """Write ``count`` random files of ``size`` bytes under ``root`` and their PULP_MANIFEST."""
    root.mkdir(parents=True, exist_ok=True)
    fixture = FileFixture(root=root)
    for i in range(count):
        rel = f"{subdir}/{i}.iso" if subdir else f"{i}.iso"
        data = os.urandom(size) if not seed else hashlib.sha256(f"{seed}{i}".encode()).digest()
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        fixture.entries.append(FileEntry(rel, hashlib.sha256(data).hexdigest(), len(data)))
    write_manifest(fixture)
    return fixture


def write_manifest(fixture: FileFixture, extra_lines: list[str] | None = None) -> None:
    lines = [f"{e.relative_path},{e.sha256},{e.size}" for e in fixture.entries]
    fixture.manifest.write_text("\n".join(lines + (extra_lines or [])) + "\n")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files; the server's ``behaviour`` dict can make chosen paths fail."""

    def log_message(self, fmt, *args):  # keep test output quiet
        self.server.requests.append(self.path)

    def do_GET(self):
        behaviour = self.server.behaviour
        path = self.path.split("?")[0].lstrip("/")
        self.server.counts[path] = self.server.counts.get(path, 0) + 1
        if path in behaviour.get("missing", set()):
            self.send_error(404, "missing on purpose")
            return
        delay = behaviour.get("delay", {}).get(path)
        if delay:
            time.sleep(delay)
        if path in behaviour.get("corrupt", set()):
            target = Path(self.directory) / path
            data = bytearray(target.read_bytes())
            data[0] ^= 0xFF
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(bytes(data))
            return
        super().do_GET()


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1 serving ``directory``; use as a context manager."""

    def __init__(self, directory: Path, auth: tuple[str, str] | None = None):
        handler = functools.partial(_Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.behaviour = {}
        self.httpd.counts = {}
        self.httpd.requests = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def behaviour(self) -> dict:
        return self.httpd.behaviour

    @property
    def counts(self) -> dict:
        """How many GETs each path received."""
        return self.httpd.counts

    def __enter__(self) -> "FixtureServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
