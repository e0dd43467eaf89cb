"""Test fixtures made on the fly: directories of random files with a PULP_MANIFEST, served over
HTTP by a real local server (with switches to misbehave: 404s, corrupted bytes, slow answers)."""

import base64
import functools
import hashlib
import http.server
import os
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
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
        self.server.headers_seen.append(dict(self.headers))
        if self.server.auth is not None:
            expected = "Basic " + base64.b64encode(":".join(self.server.auth).encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="fixtures"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        failures = behaviour.get("fail", {})
        if failures.get(path, 0) > 0:  # answer an error status this many more times
            failures[path] -= 1
            status = behaviour.get("fail_status", 500)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
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


class _KeepAliveHandler(_Handler):
    """HTTP/1.1 with persistent connections (every response sets Content-Length)."""

    protocol_version = "HTTP/1.1"


class FixtureServer:
    """A threaded HTTP server on 127.0.0.1 serving ``directory``; use as a context manager."""

    def __init__(
        self,
        directory: Path,
        auth: tuple[str, str] | None = None,
        tls: "TLSFiles | None" = None,
        keep_alive: bool = False,
    ):
        handler_cls = _KeepAliveHandler if keep_alive else _Handler
        handler = functools.partial(handler_cls, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.behaviour = {}
        self.httpd.counts = {}
        self.httpd.requests = []
        self.httpd.headers_seen = []
        self.httpd.auth = auth
        self.tls = tls
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.server_cert, tls.server_key)
            if tls.require_client_cert:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(tls.ca_cert)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{port}/"

    @property
    def headers_seen(self) -> list[dict]:
        """Request headers of every GET, in arrival order."""
        return self.httpd.headers_seen

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


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    """A forward proxy: absolute-form GET for ``http://`` and CONNECT tunnels for ``https://``."""

    def log_message(self, fmt, *args):
        pass

    def _authorized(self) -> bool:
        if self.server.auth is None:
            return True
        expected = "Basic " + base64.b64encode(":".join(self.server.auth).encode()).decode()
        if self.headers.get("Proxy-Authorization") == expected:
            return True
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self):
        if not self._authorized():
            return
        host, _, port = self.path.rpartition(":")
        self.server.forwarded.append(f"CONNECT {self.path}")
        upstream = socket.create_connection((host, int(port)), timeout=30)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        client = self.connection
        sockets = [client, upstream]
        try:
            while True:
                readable, _, broken = select.select(sockets, [], sockets, 30)
                if broken or not readable:
                    break
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        finally:
            upstream.close()

    def do_GET(self):
        server = self.server
        if not self._authorized():
            return
        server.forwarded.append(self.path)
        skip = {"proxy-authorization", "proxy-connection", "connection", "host"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        request = urllib.request.Request(self.path, headers=headers)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as upstream:
                status, body, upstream_headers = upstream.status, upstream.read(), upstream.headers
        except urllib.error.HTTPError as err:
            status, body, upstream_headers = err.code, err.read(), err.headers
        self.send_response(status)
        for key, value in upstream_headers.items():
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ProxyServer:
    """A tiny forward HTTP proxy on 127.0.0.1 that records what it forwarded."""

    def __init__(self, auth: tuple[str, str] | None = None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.httpd.daemon_threads = True
        self.httpd.auth = auth
        self.httpd.forwarded = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def forwarded(self) -> list[str]:
        return self.httpd.forwarded

    def __enter__(self) -> "ProxyServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class TLSFiles:
    """PEM files of a test-made CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    require_client_cert: bool = False

    def read(self, name: str) -> str:
        return Path(getattr(self, name)).read_text()


def make_tls_files(directory: Path) -> TLSFiles:
    """Create a throwaway CA and certificates signed by it, with the openssl command line."""
    directory.mkdir(parents=True, exist_ok=True)
    d = str(directory)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=keyCertSign,cRLSign",
    )
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
    for name, cn in (("server", "127.0.0.1"), ("client", "test-client")):
        run(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN={cn}",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
        )
        extra = ["-extfile", "server.ext"] if name == "server" else []
        run(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            f"{name}.pem",
            *extra,
        )
    return TLSFiles(
        ca_cert=f"{d}/ca.pem",
        server_cert=f"{d}/server.pem",
        server_key=f"{d}/server.key",
        client_cert=f"{d}/client.pem",
        client_key=f"{d}/client.key",
    )
