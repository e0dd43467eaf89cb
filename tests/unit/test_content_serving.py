"""The content app against real PostgreSQL and real sockets: resolution, listings, HTTP semantics,
path safety, cache invalidation and the heartbeat."""

import hashlib
import http.client
import os
import time

import pytest
import requests

from tests.s3 import every_content_storage
from tests.unit.content_support import (
    AppThread,
    add_files,
    distribute,
    make_repository,
    publish,
    remove_files,
)

pytestmark = pytest.mark.django_db(transaction=True)

P = "/pulp/content/"


@pytest.fixture
def app(content_storage):
    a = AppThread().start()
    a.wait_cache_ready()
    yield a
    a.stop()


@pytest.fixture
def files():
    return {
        "a.iso": os.urandom(5000),
        "dir/b.txt": b"hello world\n",
        "dir/sub/c.tar.gz": os.urandom(1000),
        "space name.bin": b"spaced",
    }


@pytest.fixture
def published(files):
    repo = make_repository()
    version = add_files(repo, files)
    pub = publish(version, metadata={"PULP_MANIFEST": b"manifest\n"})
    dist = distribute("pub/dist", publication=pub)
    return repo, version, pub, dist


def raw_get(app: AppThread, target: str, method: str = "GET", headers=None):
    """Send ``target`` byte for byte (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for k, v in (headers or {}).items():
        conn.putheader(k, v)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), body


# --- resolution -----------------------------------------------------------------------------------
@every_content_storage
def test_publication_files_and_metadata(app, published, files, content_storage):
    for rel, data in files.items():
        r = requests.get(app.url(P + "pub/dist/" + rel))
        assert r.status_code == 200, rel
        assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(data).hexdigest()
        if content_storage == "filesystem":
            assert r.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
        else:  # the store's own validator (an MD5 on S3)
            assert r.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
        assert bool(r.history) == (content_storage == "s3-redirect")
        assert r.headers["Accept-Ranges"] == "bytes"
        assert "Last-Modified" in r.headers
    r = requests.get(app.url(P + "pub/dist/PULP_MANIFEST"))
    assert r.status_code == 200 and r.content == b"manifest\n"


def test_content_type_from_name(app, published):
    assert (
        requests.get(app.url(P + "pub/dist/dir/b.txt"))
        .headers["Content-Type"]
        .startswith("text/plain")
    )
    assert requests.head(app.url(P + "pub/dist/dir/sub/c.tar.gz")).headers["Content-Type"] == (
        "application/gzip"
    )
    assert requests.head(app.url(P + "pub/dist/a.iso")).headers["Content-Type"] != "text/html"


def test_repository_distribution_serves_latest_version(app):
    repo = make_repository()
    add_files(repo, {"one.txt": b"1"})
    distribute("repo-dist", repository=repo)
    assert requests.get(app.url(P + "repo-dist/one.txt")).content == b"1"
    add_files(repo, {"two.txt": b"2"})
    assert requests.get(app.url(P + "repo-dist/two.txt")).content == b"2"
    remove_files(repo, ["one.txt"])
    assert requests.get(app.url(P + "repo-dist/one.txt")).status_code == 404


def test_repository_distribution_prefers_publication_of_latest_version(app):
    repo = make_repository()
    v = add_files(repo, {"one.txt": b"1"})
    distribute("repo-pub", repository=repo)
    assert requests.get(app.url(P + "repo-pub/PULP_MANIFEST")).status_code == 404
    publish(v, metadata={"PULP_MANIFEST": b"m1"})
    assert requests.get(app.url(P + "repo-pub/PULP_MANIFEST")).content == b"m1"


def test_repository_version_distribution_is_pinned(app):
    repo = make_repository()
    v1 = add_files(repo, {"one.txt": b"1"})
    add_files(repo, {"two.txt": b"2"})
    distribute("pinned", repository_version=v1)
    assert requests.get(app.url(P + "pinned/one.txt")).content == b"1"
    assert requests.get(app.url(P + "pinned/two.txt")).status_code == 404


def test_pass_through_publication_serves_version_content(app):
    repo = make_repository()
    v = add_files(repo, {"x/y.bin": b"yy"})
    pub = publish(v, pass_through=True, metadata={"PULP_MANIFEST": b"m"})
    distribute("pt", publication=pub)
    assert requests.get(app.url(P + "pt/x/y.bin")).content == b"yy"
    assert requests.get(app.url(P + "pt/PULP_MANIFEST")).content == b"m"


def test_incomplete_publication_is_not_served(app):
    repo = make_repository()
    v = add_files(repo, {"f": b"f"})
    pub = publish(v)
    pub.complete = False
    pub.save()
    distribute("incomplete", publication=pub)
    assert requests.get(app.url(P + "incomplete/f")).status_code == 404


def test_longest_base_path_wins(app):
    r1, r2 = make_repository(), make_repository()
    add_files(r1, {"deep/file.txt": b"outer", "other.txt": b"o"})
    add_files(r2, {"file.txt": b"inner"})
    distribute("nest", repository=r1)
    distribute("nest/deep", repository=r2)
    assert requests.get(app.url(P + "nest/deep/file.txt")).content == b"inner"
    assert requests.get(app.url(P + "nest/other.txt")).content == b"o"


def test_not_found_has_clear_body(app, published):
    r = requests.get(app.url(P + "pub/dist/nope.txt"))
    assert r.status_code == 404 and "nope.txt" in r.text and "pub/dist" in r.text
    r = requests.get(app.url(P + "no-such-distribution/x"))
    assert r.status_code == 404 and "no distribution" in r.text
    assert requests.get(app.url("/elsewhere")).status_code == 404


def test_only_get_and_head(app, published):
    assert requests.post(app.url(P + "pub/dist/a.iso")).status_code == 405


# --- listings -------------------------------------------------------------------------------------
def test_listings(app, published, files):
    distribute("hidden-one", publication=published[2], hidden=True)
    root = requests.get(app.url(P))
    assert root.status_code == 200 and root.headers["Content-Type"].startswith("text/html")
    assert 'href="pub/"' in root.text and "hidden-one" not in root.text
    mid = requests.get(app.url(P + "pub/"))
    assert 'href="dist/"' in mid.text
    top = requests.get(app.url(P + "pub/dist/"))
    assert top.status_code == 200
    for name in ('href="a.iso"', 'href="dir/"', 'href="PULP_MANIFEST"', 'href="space%20name.bin"'):
        assert name in top.text
    assert "5000" in top.text  # sizes are shown
    sub = requests.get(app.url(P + "pub/dist/dir/"))
    assert 'href="b.txt"' in sub.text and 'href="sub/"' in sub.text and "a.iso" not in sub.text
    assert 'href="../"' in sub.text


def test_directory_without_slash_redirects(app, published):
    r = requests.get(app.url(P + "pub/dist/dir"), allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"].endswith("/pub/dist/dir/")
    r = requests.get(app.url(P + "pub/dist"), allow_redirects=False)
    assert r.status_code == 301


def test_empty_distribution_lists_nothing(app):
    distribute("empty")
    r = requests.get(app.url(P + "empty/"))
    assert r.status_code == 200 and "Index of" in r.text
    assert requests.get(app.url(P + "empty/x")).status_code == 404


# --- HTTP semantics -------------------------------------------------------------------------------
def test_head(app, published, files):
    r = requests.head(app.url(P + "pub/dist/a.iso"))
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["Content-Length"]) == len(files["a.iso"])


@pytest.mark.parametrize(
    "header,status,expect",
    [
        ("bytes=0-9", 206, (0, 9)),
        ("bytes=10-", 206, (10, 4999)),
        ("bytes=-100", 206, (4900, 4999)),
        ("bytes=-99999", 206, (0, 4999)),
        ("bytes=4999-4999", 206, (4999, 4999)),
        ("bytes=100-999999", 206, (100, 4999)),
        ("bytes=5000-", 416, None),
        ("bytes=-0", 416, None),
        ("bytes=0-1,5-6", 200, None),  # several ranges: a full answer is allowed
        ("bytes=9-3", 200, None),  # invalid: ignored
        ("items=0-1", 200, None),
    ],
)
@every_content_storage
def test_ranges(app, published, files, header, status, expect, content_storage):
    if content_storage == "s3-redirect" and not header.startswith("bytes="):
        pytest.skip("after a redirect the store reads the Range header itself (moto: a 206)")
    data = files["a.iso"]
    r = requests.get(app.url(P + "pub/dist/a.iso"), headers={"Range": header})
    assert r.status_code == status
    if status == 206:
        start, end = expect
        assert r.content == data[start : end + 1]
        assert r.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    elif status == 416:
        if content_storage == "filesystem":  # S3 answers 416 with an XML body instead
            assert r.headers["Content-Range"] == f"bytes */{len(data)}"
    else:
        assert r.content == data


def test_conditional_requests(app, published, files):
    url = app.url(P + "pub/dist/a.iso")
    first = requests.get(url)
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    assert requests.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert requests.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert requests.get(url, headers={"If-Modified-Since": lm}).status_code == 304
    assert requests.get(url, headers={"If-Match": '"other"'}).status_code == 412
    assert requests.get(url, headers={"If-Match": etag}).status_code == 200
    r = requests.get(url, headers={"Range": "bytes=0-0", "If-Range": etag})
    assert r.status_code == 206
    r = requests.get(url, headers={"Range": "bytes=0-0", "If-Range": '"stale"'})
    assert r.status_code == 200 and len(r.content) == len(files["a.iso"])


# --- path safety ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "suffix",
    [
        "../../../etc/passwd",
        "dir/../a.iso",
        "%2e%2e/%2e%2e/etc/passwd",
        "dir/%2E%2E/a.iso",
        "dir%2Fb.txt",
        "dir%2fb.txt",
        "dir\\b.txt",
        "dir%5Cb.txt",
        "a.iso%00.txt",
        "/etc/passwd",
        "dir//b.txt",
        "./a.iso",
        "dir/%0a",
    ],
)
def test_path_traversal_and_odd_paths_are_refused(app, published, suffix):
    status, _headers, body = raw_get(app, P + "pub/dist/" + suffix)
    assert status == 400, (suffix, status, body)
    assert b"root:" not in body


def test_traversal_out_of_prefix_refused(app, published):
    status, _h, body = raw_get(app, P + "../etc/passwd")
    assert status == 400
    status, _h, body = raw_get(app, "/pulp/content/..%2F..%2Fetc/passwd")
    assert status == 400


def test_percent_encoded_names_work(app, published):
    r = requests.get(app.url(P + "pub/dist/space%20name.bin"))
    assert r.status_code == 200 and r.content == b"spaced"


# --- cache invalidation ---------------------------------------------------------------------------
def test_changes_are_seen_immediately(app, published):
    repo, version, pub, dist = published
    url = app.url(P + "pub/dist/new.txt")
    assert requests.get(url).status_code == 404
    assert requests.get(url).status_code == 404  # now cached
    v2 = add_files(repo, {"new.txt": b"fresh"})
    pub2 = publish(v2)
    dist.publication = pub2
    dist.save()
    deadline = time.monotonic() + 2
    status = None
    while time.monotonic() < deadline:
        status = requests.get(url).status_code
        if status == 200:
            break
        time.sleep(0.01)
    assert status == 200
    dist.delete()
    time.sleep(0.05)
    assert requests.get(url).status_code == 404


def test_cache_serves_without_queries(app, published, monkeypatch):
    import pulpcore.content.guards as appmod  # resolves (and loads guards) on a miss

    url = app.url(P + "pub/dist/a.iso")
    assert requests.get(url).status_code == 200
    assert app.state.cache.entries, "resolution was not cached"
    calls = []
    real = appmod.resolve_sync
    monkeypatch.setattr(appmod, "resolve_sync", lambda *a: calls.append(a) or real(*a))
    for _ in range(5):
        assert requests.get(url).status_code == 200
    assert calls == []
    requests.get(app.url(P + "pub/dist/other-path"))
    assert len(calls) == 1  # the spy does see misses


@every_content_storage
def test_missing_file_on_disk_is_404_not_500(app, published, files, content_storage):
    from pulpcore.app.models import Artifact
    from pulpcore.app.storage import delete_stored

    sha = hashlib.sha256(files["dir/b.txt"]).hexdigest()
    art = Artifact.objects.get(sha256=sha)
    delete_stored(art.file.name)
    r = requests.get(app.url(P + "pub/dist/dir/b.txt"))
    if content_storage == "s3-redirect":
        # Answered without asking the store; the store then refuses the missing key itself.
        assert r.history and r.status_code in (403, 404)
    else:
        assert r.status_code == 404 and "missing" in r.text


# --- heartbeat ------------------------------------------------------------------------------------
def test_heartbeat_registers_refreshes_and_unregisters(settings):
    from pulpcore.app.models import AppStatus

    settings.CONTENT_APP_TTL = 3  # beat every second
    a = AppThread(heartbeat=True).start()
    try:
        row = AppStatus.objects.get(app_type="content", name=a.state.name)
        assert "@" in row.name and row.versions.get("core")
        first = row.last_heartbeat
        time.sleep(1.5)
        row.refresh_from_db()
        assert row.last_heartbeat > first
    finally:
        a.stop()
    assert not AppStatus.objects.filter(name=a.state.name).exists()


@every_content_storage
def test_large_file_full_and_range_use_sendfile_path(app):
    """Above the small-file threshold the bytes go through sendfile; check they are exact."""
    from pulpcore.content.serve import SMALL_FILE

    data = os.urandom(3 * SMALL_FILE + 12345)
    repo = make_repository()
    distribute("large", repository=repo)
    add_files(repo, {"big.bin": data})
    url = app.url(P + "large/big.bin")
    r = requests.get(url)
    assert r.status_code == 200 and r.content == data
    start, end = 1000, 2 * SMALL_FILE + 77
    r = requests.get(url, headers={"Range": f"bytes={start}-{end}"})
    assert r.status_code == 206 and r.content == data[start : end + 1]
    # keep-alive: several requests on one connection stay in sync
    with requests.Session() as s:
        for _ in range(3):
            assert s.get(url).content == data
            assert s.get(url, headers={"Range": "bytes=-10"}).content == data[-10:]


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_sendfile_waits_for_a_slow_reader_and_survives_a_hang_up(loop):
    """A file much larger than the socket buffer, read slowly: sendfile must wait for room (on
    uvloop, which has no loop.sendfile, as on asyncio's loop) and deliver every byte in order;
    a client hanging up halfway leaves the app serving the next request."""
    import asyncio
    import socket

    from pulpcore.content import new_event_loop

    a = AppThread(loop=new_event_loop() if loop == "uvloop" else asyncio.new_event_loop()).start()
    try:
        data = os.urandom(8 * 1024 * 1024 + 3)
        repo = make_repository()
        distribute("slow", repository=repo)
        add_files(repo, {"big.bin": data})
        request = f"GET {P}slow/big.bin HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", a.port)) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            sock.sendall(request)
            got = bytearray()
            while b"\r\n\r\n" not in got:
                got += sock.recv(4096)
            head, _, got = bytes(got).partition(b"\r\n\r\n")
            got = bytearray(got)
            assert head.startswith(b"HTTP/1.1 200")
            time.sleep(0.3)  # the server's sendfile fills the buffers and must wait
            while len(got) < len(data):
                chunk = sock.recv(1024 * 1024)
                assert chunk, "connection closed early"
                got += chunk
        assert bytes(got) == data
        with socket.create_connection(("127.0.0.1", a.port)) as sock:
            sock.sendall(request)
            sock.recv(65536)  # headers and a little of the body, then hang up
        r = requests.get(a.url(P + "slow/big.bin"), timeout=30)
        assert r.status_code == 200 and r.content == data
    finally:
        a.stop()


def test_small_file_kept_in_memory_notices_deletion_and_replacement(app, published, files):
    """A small file served once is kept (open and in memory); deleting it gives 404 on the next
    request and a file renamed over it (repair) is served fresh, without any database change."""
    from pulpcore.app.models import Artifact

    url = app.url(P + "pub/dist/dir/b.txt")
    assert requests.get(url).content == files["dir/b.txt"]
    art = Artifact.objects.get(sha256=hashlib.sha256(files["dir/b.txt"]).hexdigest())
    path = art.file.path
    assert path in app.state.small_files._entries, "not kept"
    replacement = path + ".new"
    with open(replacement, "wb") as f:
        f.write(b"HELLO WORLD\n")  # same size: only the link count can tell
    os.rename(replacement, path)
    assert requests.get(url).content == b"HELLO WORLD\n"
    os.unlink(path)
    r = requests.get(url)
    assert r.status_code == 404 and "missing" in r.text


def test_content_guard_refuses_and_can_hide_listing(app, published, settings):
    """A guard that does not permit the request gives 403 with its reason; with
    HIDE_GUARDED_DISTRIBUTIONS the guarded distribution leaves the root listing."""
    from pulpcore.app.models import ContentGuard

    guard = ContentGuard.objects.create(name="deny-all", pulp_type="core.base-guard")
    dist = published[3]
    dist.content_guard = guard
    dist.save()
    r = requests.get(app.url(P + "pub/dist/a.iso"))
    assert r.status_code == 403 and "cannot authorize" in r.text
    assert 'href="pub/"' in requests.get(app.url(P)).text
    settings.HIDE_GUARDED_DISTRIBUTIONS = True
    dist.save()  # any change refreshes the cache
    time.sleep(0.05)
    assert 'href="pub/"' not in requests.get(app.url(P)).text


@every_content_storage
def test_empty_file(app, content_storage):
    repo = make_repository()
    add_files(repo, {"empty.txt": b""})
    distribute("emptyfile", repository=repo)
    url = app.url(P + "emptyfile/empty.txt")
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == "0"
    r = requests.get(url, headers={"Range": "bytes=0-"})
    assert r.status_code == 416
    if content_storage == "filesystem":  # S3 answers 416 with an XML body instead
        assert r.headers["Content-Range"] == "bytes */0"


# --- artifact distributions (core.artifact) ------------------------------------------------------
def test_artifact_distribution_serves_artifacts_by_uuid_only(app, published, files):
    """Like Pulp's, a core.artifact distribution serves any artifact at ``<base_path>/<uuid>``
    and nothing else; file distributions never serve artifacts by UUID."""
    from pulpcore.app.models import Artifact, ArtifactDistribution, HeaderContentGuard
    from tests.unit.content_support import make_artifact

    data = os.urandom(3000)
    artifact = make_artifact(data)
    loose = Artifact.objects.get(pk=artifact.pk)
    dist = ArtifactDistribution.objects.create(name="artifacts", base_path="pulp-artifacts")
    r = requests.get(app.url(f"{P}pulp-artifacts/{loose.pk}"))
    assert r.status_code == 200 and r.content == data
    assert r.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert requests.get(app.url(f"{P}pulp-artifacts/{loose.pk}/")).content == data
    # an artifact of a published file too
    sha = hashlib.sha256(files["a.iso"]).hexdigest()
    of_file = Artifact.objects.get(sha256=sha)
    assert requests.get(app.url(f"{P}pulp-artifacts/{of_file.pk}")).content == files["a.iso"]
    # unknown or non-canonical UUIDs, other paths and the base path itself: 404, no listing
    for rel in (
        "00000000-0000-0000-0000-000000000000",
        str(loose.pk).replace("-", ""),
        str(loose.pk).upper(),
        "a.iso",
        "",
    ):
        r = requests.get(app.url(f"{P}pulp-artifacts/{rel}"))
        assert r.status_code == 404, rel
    # a file distribution does not serve artifacts by UUID
    assert requests.get(app.url(f"{P}pub/dist/{loose.pk}")).status_code == 404
    # its content guard applies
    dist.content_guard = HeaderContentGuard.objects.create(
        name="ag", header_name="X-Key", header_value="k"
    )
    dist.save()
    time.sleep(0.5)  # the cache drops entries on the NOTIFY of the change
    url = app.url(f"{P}pulp-artifacts/{loose.pk}")
    assert requests.get(url).status_code == 403
    assert requests.get(url, headers={"X-Key": "k"}).content == data
