"""Downloaders against a real local HTTP origin (no mocks): validation, retries, auth, TLS."""

import asyncio
import hashlib
import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from pulp_file.app.models import FileRemote
from pulpcore.download import (
    DigestValidationError,
    DownloaderFactory,
    DownloadError,
    HttpDownloader,
    HttpStatusError,
    SizeValidationError,
)
from pulpcore.download.http import retry_waits
from tests.fixtures import FixtureServer, ProxyServer, make_file_fixture, make_tls_files


@pytest.fixture
def tree(tmp_path):
    return make_file_fixture(tmp_path / "origin", count=3, size=300 * 1024)


@pytest.fixture
def server(tree):
    with FixtureServer(tree.root) as srv:
        yield srv


def working_files() -> set[str]:
    return set(os.listdir(settings.WORKING_DIRECTORY))


def fetch(remote, url, **kwargs):
    """Run one download through a fresh factory and close its session."""

    async def go():
        async with DownloaderFactory(remote) as factory:
            return await factory.build(url, **kwargs).run()

    return asyncio.run(go())


def remote_for(url: str, **fields) -> FileRemote:
    fields.setdefault("max_retries", 0)
    return FileRemote(name="r", url=url, **fields)


def test_download_returns_all_allowed_digests(tree, server):
    entry = tree.entries[0]
    chunks = []

    async def on_chunk(data: bytes) -> None:
        chunks.append(data)

    result = fetch(
        remote_for(server.url),
        server.url + entry.relative_path,
        expected_digests={"sha256": entry.sha256},
        expected_size=entry.size,
        on_chunk=on_chunk,
    )
    data = Path(result.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry.sha256
    assert b"".join(chunks) == data
    attrs = result.artifact_attributes
    assert attrs["size"] == entry.size
    assert attrs["sha256"] == entry.sha256
    for name in settings.ALLOWED_CONTENT_CHECKSUMS:
        assert attrs[name] == hashlib.new(name, data).hexdigest()
    assert "md5" not in attrs  # not an allowed checksum: never reported
    assert result.path.startswith(str(settings.WORKING_DIRECTORY))
    assert result.headers["Content-Length"] == str(entry.size)
    os.unlink(result.path)


def test_digest_mismatch_raises_and_leaves_no_file(tree, server):
    before = working_files()
    entry = tree.entries[0]
    with pytest.raises(DigestValidationError) as info:
        fetch(
            remote_for(server.url, max_retries=3),
            server.url + entry.relative_path,
            expected_digests={"sha256": "0" * 64},
        )
    assert "sha256" in str(info.value) and entry.relative_path in str(info.value)
    assert working_files() == before
    assert server.counts[entry.relative_path] == 1  # validation errors are never retried


def test_corrupted_bytes_detected(tree, server):
    entry = tree.entries[1]
    server.behaviour["corrupt"] = {entry.relative_path}
    with pytest.raises(DigestValidationError):
        fetch(
            remote_for(server.url),
            server.url + entry.relative_path,
            expected_digests={"sha256": entry.sha256},
            expected_size=entry.size,
        )


def test_size_mismatch_raises_and_leaves_no_file(tree, server):
    before = working_files()
    entry = tree.entries[0]
    for wrong in (entry.size - 1, entry.size + 1):
        with pytest.raises(SizeValidationError):
            fetch(remote_for(server.url), server.url + entry.relative_path, expected_size=wrong)
    assert working_files() == before


def test_retries_on_500_then_succeeds(tree, server):
    entry = tree.entries[0]
    server.behaviour["fail"] = {entry.relative_path: 2}
    result = fetch(
        remote_for(server.url, max_retries=3),
        server.url + entry.relative_path,
        expected_digests={"sha256": entry.sha256},
    )
    assert server.counts[entry.relative_path] == 3
    os.unlink(result.path)


def test_retries_exhausted_on_500(tree, server):
    entry = tree.entries[0]
    server.behaviour["fail"] = {entry.relative_path: 10}
    with pytest.raises(HttpStatusError) as info:
        fetch(remote_for(server.url, max_retries=2), server.url + entry.relative_path)
    assert info.value.status == 500
    assert server.counts[entry.relative_path] == 3


def test_429_is_retried(tree, server):
    entry = tree.entries[0]
    server.behaviour["fail"] = {entry.relative_path: 1}
    server.behaviour["fail_status"] = 429
    result = fetch(remote_for(server.url, max_retries=1), server.url + entry.relative_path)
    assert server.counts[entry.relative_path] == 2
    os.unlink(result.path)


def test_404_not_retried(server):
    with pytest.raises(HttpStatusError) as info:
        fetch(remote_for(server.url, max_retries=5), server.url + "nope.iso")
    assert info.value.status == 404
    assert "404" in str(info.value) and "nope.iso" in str(info.value)
    assert server.counts["nope.iso"] == 1


def test_connection_refused_is_retried_then_readable(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    started = time.monotonic()
    with pytest.raises(DownloadError) as info:
        fetch(remote_for(url, max_retries=2), url)
    # two backoff sleeps (0.2 s + 0.4 s) prove the retries happened
    assert time.monotonic() - started >= 0.55
    assert url in str(info.value)


def test_basic_auth(tree, tmp_path):
    entry = tree.entries[0]
    with FixtureServer(tree.root, auth=("alice", "s3cret")) as srv:
        with pytest.raises(HttpStatusError) as info:
            fetch(remote_for(srv.url), srv.url + entry.relative_path)
        assert info.value.status == 401
        result = fetch(
            remote_for(srv.url, username="alice", password="s3cret"),
            srv.url + entry.relative_path,
            expected_digests={"sha256": entry.sha256},
        )
        os.unlink(result.path)


def test_remote_credentials_win_over_a_custom_authorization_header(tree, tmp_path):
    entry = tree.entries[0]
    with FixtureServer(tree.root, auth=("alice", "s3cret")) as srv:
        remote = remote_for(
            srv.url,
            username="alice",
            password="s3cret",
            headers=[{"authorization": "Basic bm9ib2R5Om5vcGU="}],
        )
        os.unlink(fetch(remote, srv.url + entry.relative_path).path)
        assert srv.headers_seen[-1]["Authorization"].startswith("Basic YWxpY2U6")


def test_retry_policy_doubles_to_a_cap_and_honours_retry_after():
    waits = retry_waits(base=0.2, cap=10.0)
    next(waits)
    plain = HttpStatusError("http://x/", 503, "busy")
    assert [waits.send(plain) for _ in range(8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0]
    waits = retry_waits(base=0.2, cap=10.0)
    next(waits)
    later = HttpStatusError("http://x/", 429, "slow down")
    later.retry_after = 3.0
    assert waits.send(later) == 3.0  # the server asked for longer than our first wait
    later.retry_after = 60.0
    assert waits.send(later) == 10.0  # never longer than the cap
    assert waits.send(plain) == 0.8


def test_custom_headers_sent(tree, server):
    entry = tree.entries[0]
    remote = remote_for(server.url, headers=[{"X-Test": "one"}, {"X-Other": "two"}])
    result = fetch(remote, server.url + entry.relative_path)
    os.unlink(result.path)
    seen = server.headers_seen[-1]
    assert seen["X-Test"] == "one" and seen["X-Other"] == "two"
    assert seen["User-Agent"].startswith("pulpcore")


def test_sock_read_timeout(tree, server):
    entry = tree.entries[0]
    server.behaviour["delay"] = {entry.relative_path: 1.5}
    with pytest.raises(DownloadError) as info:
        fetch(remote_for(server.url, sock_read_timeout=0.3), server.url + entry.relative_path)
    assert "timed out" in str(info.value)
    assert server.counts[entry.relative_path] == 1


def test_total_timeout_retried(tree, server):
    entry = tree.entries[0]
    server.behaviour["delay"] = {entry.relative_path: 1.0}
    with pytest.raises(DownloadError):
        fetch(
            remote_for(server.url, total_timeout=0.3, max_retries=1),
            server.url + entry.relative_path,
        )
    assert server.counts[entry.relative_path] == 2


def test_proxy_with_auth(tree, server):
    entry = tree.entries[0]
    url = server.url + entry.relative_path
    with ProxyServer(auth=("p", "pw")) as proxy:
        with pytest.raises(HttpStatusError) as info:
            fetch(remote_for(server.url, proxy_url=proxy.url), url)
        assert info.value.status == 407
        result = fetch(
            remote_for(server.url, proxy_url=proxy.url, proxy_username="p", proxy_password="pw"),
            url,
            expected_digests={"sha256": entry.sha256},
        )
        os.unlink(result.path)
        assert proxy.forwarded == [url]


def test_tls_validation_and_ca_cert(tree, tmp_path):
    tls = make_tls_files(tmp_path / "tls")
    entry = tree.entries[0]
    with FixtureServer(tree.root, tls=tls) as srv:
        url = srv.url + entry.relative_path
        assert url.startswith("https://")
        # Unknown CA: refused when validating.
        with pytest.raises(DownloadError) as info:
            fetch(remote_for(srv.url), url)
        assert "certificate" in str(info.value).lower()
        # Validation off: accepted.
        os.unlink(fetch(remote_for(srv.url, tls_validation=False), url).path)
        # Our CA given: accepted while validating.
        result = fetch(
            remote_for(srv.url, ca_cert=tls.read("ca_cert")),
            url,
            expected_digests={"sha256": entry.sha256},
        )
        os.unlink(result.path)


def test_https_through_proxy_tunnel(tree, tmp_path):
    tls = make_tls_files(tmp_path / "tls")
    entry = tree.entries[0]
    with FixtureServer(tree.root, tls=tls) as srv, ProxyServer(auth=("p", "pw")) as proxy:
        url = srv.url + entry.relative_path
        remote = remote_for(
            srv.url,
            ca_cert=tls.read("ca_cert"),
            proxy_url=proxy.url,
            proxy_username="p",
            proxy_password="pw",
        )
        result = fetch(remote, url, expected_digests={"sha256": entry.sha256})
        os.unlink(result.path)
        host = url.split("/")[2]
        assert proxy.forwarded == [f"CONNECT {host}"]
        with pytest.raises(DownloadError):  # no proxy credentials: the tunnel is refused
            fetch(remote_for(srv.url, ca_cert=tls.read("ca_cert"), proxy_url=proxy.url), url)


def test_tls_client_certificate(tree, tmp_path):
    tls = make_tls_files(tmp_path / "tls")
    tls.require_client_cert = True
    entry = tree.entries[0]
    with FixtureServer(tree.root, tls=tls) as srv:
        url = srv.url + entry.relative_path
        with pytest.raises(DownloadError):
            fetch(remote_for(srv.url, ca_cert=tls.read("ca_cert")), url)
        remote = remote_for(
            srv.url,
            ca_cert=tls.read("ca_cert"),
            client_cert=tls.read("client_cert"),
            client_key=tls.read("client_key"),
        )
        os.unlink(fetch(remote, url).path)


def test_concurrency_limit_and_rate_limit(tree, server):
    entry = tree.entries[0]
    server.behaviour["delay"] = {entry.relative_path: 0.3}
    url = server.url + entry.relative_path

    async def go(remote):
        async with DownloaderFactory(remote) as factory:
            started = time.monotonic()
            results = await asyncio.gather(*(factory.build(url).run() for _ in range(4)))
            for r in results:
                os.unlink(r.path)
            return time.monotonic() - started

    # 4 requests of 0.3 s, 2 at a time: at least two rounds.
    assert asyncio.run(go(remote_for(server.url, download_concurrency=2))) >= 0.55
    server.behaviour["delay"] = {}
    # 5 requests per second: the 4th starts 0.6 s after the first.
    assert asyncio.run(go(remote_for(server.url, rate_limit=5))) >= 0.55


def test_http_downloader_with_own_session(tree, server):
    import aiohttp

    entry = tree.entries[2]

    async def go():
        async with aiohttp.ClientSession() as session:
            return await HttpDownloader(
                server.url + entry.relative_path, session, expected_size=entry.size
            ).run()

    result = asyncio.run(go())
    assert result.artifact_attributes["sha256"] == entry.sha256
    os.unlink(result.path)


def test_file_url(tree, settings):
    entry = tree.entries[0]
    url = (tree.root / entry.relative_path).as_uri()
    settings.ALLOWED_IMPORT_PATHS = []
    with pytest.raises(DownloadError) as info:
        fetch(remote_for(url), url)
    assert "ALLOWED_IMPORT_PATHS" in str(info.value)
    settings.ALLOWED_IMPORT_PATHS = [str(tree.root)]
    result = fetch(remote_for(url), url, expected_digests={"sha256": entry.sha256})
    assert result.artifact_attributes["size"] == entry.size
    os.unlink(result.path)
    with pytest.raises(DigestValidationError):
        fetch(remote_for(url), url, expected_digests={"sha256": "1" * 64})
    # A path escaping the allowed root through ".." is refused too.
    sneaky = tree.root.as_uri() + "/../" + tree.root.name + "x/secret"
    with pytest.raises(DownloadError):
        fetch(remote_for(sneaky), sneaky)


def test_build_outside_event_loop_then_run(tree, server):
    """Factories and downloaders may be built in sync code; the session appears in the loop."""
    entry = tree.entries[0]
    factory = DownloaderFactory(remote_for(server.url))
    downloader = factory.build(server.url + entry.relative_path, expected_size=entry.size)

    async def go():
        try:
            return await downloader.run()
        finally:
            await factory.close()

    result = asyncio.run(go())
    assert result.artifact_attributes["sha256"] == entry.sha256
    os.unlink(result.path)
