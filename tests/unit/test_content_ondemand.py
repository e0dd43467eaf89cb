"""On-demand and streamed content through the content app, against a real local origin."""

import concurrent.futures
import hashlib
import http.client
import os
import threading
import time

import pytest
import requests

from pulpcore.app.models import Artifact, ContentArtifact
from tests.fixtures import FixtureServer, make_file_fixture
from tests.s3 import every_content_storage
from tests.unit.content_support import (
    AppThread,
    add_files,
    distribute,
    make_remote,
    make_repository,
    publish,
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
def origin(tmp_path):
    fixture = make_file_fixture(tmp_path / "origin", count=3, size=300_000)
    with FixtureServer(fixture.root) as server:
        yield fixture, server


def _setup(origin, policy: str, base_path: str):
    fixture, server = origin
    remote = make_remote(server.url, policy=policy)
    files = {
        e.relative_path: (fixture.root / e.relative_path).read_bytes() for e in fixture.entries
    }

    repo = make_repository()
    version = add_files(repo, files, remote=remote, on_demand=set(files))
    distribute(base_path, publication=publish(version))
    return fixture, server, files


def _stored(rel: str) -> bool:
    return ContentArtifact.objects.filter(relative_path=rel, artifact__isnull=False).exists()


@every_content_storage
def test_first_fetch_streams_and_saves_then_storage(app, origin, content_storage):
    fixture, server, files = _setup(origin, "on_demand", "od")
    url = app.url(P + "od/0.iso")
    assert not _stored("0.iso")
    r = requests.get(url)
    assert r.status_code == 200 and r.content == files["0.iso"]
    assert server.counts.get("0.iso") == 1
    assert _stored("0.iso")
    art = Artifact.objects.get(sha256=hashlib.sha256(files["0.iso"]).hexdigest())
    from pulpcore.app.storage import is_local, open_stored

    assert is_local() == (content_storage == "filesystem")
    with open_stored(art.file.name) as fp:  # verified and kept in the bucket on S3
        assert fp.read() == files["0.iso"]
    r2 = requests.get(url)
    assert r2.content == files["0.iso"]
    assert bool(r2.history) == (content_storage == "s3-redirect")
    if content_storage == "filesystem":
        assert r2.headers["ETag"] == f'"{art.sha256}"'
    assert server.counts.get("0.iso") == 1  # second fetch came from storage
    r3 = requests.get(url, headers={"Range": "bytes=10-19"})
    assert r3.status_code == 206 and r3.content == files["0.iso"][10:20]


def test_head_on_demand_does_not_download(app, origin):
    fixture, server, files = _setup(origin, "on_demand", "odh")
    r = requests.head(app.url(P + "odh/1.iso"))
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(files["1.iso"])
    assert server.counts.get("1.iso") is None and not _stored("1.iso")


def test_listing_shows_on_demand_sizes(app, origin):
    fixture, server, files = _setup(origin, "on_demand", "odl")
    text = requests.get(app.url(P + "odl/")).text
    assert 'href="0.iso"' in text and str(len(files["0.iso"])) in text
    assert not server.counts


def test_concurrent_first_fetches_make_one_download(app, origin):
    fixture, server, files = _setup(origin, "on_demand", "odc")
    server.behaviour["delay"] = {"2.iso": 0.5}
    url = app.url(P + "odc/2.iso")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: requests.get(url, timeout=30).content, range(8)))
    assert all(b == files["2.iso"] for b in bodies)
    assert server.counts.get("2.iso") == 1
    assert _stored("2.iso")


def test_streamed_policy_never_saves(app, origin):
    fixture, server, files = _setup(origin, "streamed", "st")
    url = app.url(P + "st/0.iso")
    for expected_count in (1, 2):
        r = requests.get(url)
        assert r.status_code == 200 and r.content == files["0.iso"]
        assert server.counts.get("0.iso") == expected_count
    assert not _stored("0.iso")
    assert not Artifact.objects.filter(sha256=hashlib.sha256(files["0.iso"]).hexdigest()).exists()


def test_corrupt_upstream_is_never_stored_nor_completed(app, origin, tmp_path):
    fixture, server, files = _setup(origin, "on_demand", "bad")
    server.behaviour["corrupt"] = {"1.iso"}
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    conn.request("GET", P + "bad/1.iso")
    resp = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as info:
        resp.read()
    conn.close()
    assert len(info.value.partial) < len(files["1.iso"])
    assert not _stored("1.iso")
    sha = hashlib.sha256(files["1.iso"]).hexdigest()
    assert not Artifact.objects.filter(sha256=sha).exists()
    # nothing left behind in the working directory either
    from django.conf import settings

    leftovers = [n for n in os.listdir(settings.WORKING_DIRECTORY) if n.endswith(".download")]
    assert leftovers == []
    # the origin is fixed: the next request downloads again and succeeds
    server.behaviour["corrupt"] = set()
    r = requests.get(app.url(P + "bad/1.iso"))
    assert r.status_code == 200 and r.content == files["1.iso"]
    assert server.counts["1.iso"] == 2 and _stored("1.iso")


def test_missing_upstream_gives_502(app, origin):
    fixture, server, files = _setup(origin, "on_demand", "miss")
    server.behaviour["missing"] = {"0.iso"}
    r = requests.get(app.url(P + "miss/0.iso"))
    assert r.status_code == 502 and "remote" in r.text
    assert not _stored("0.iso")


def test_artifact_already_stored_elsewhere_is_reused(app, origin):
    """Bytes already in storage (another content unit) are linked, not stored twice."""
    from tests.unit.content_support import make_artifact

    fixture, server, files = _setup(origin, "on_demand", "reuse")
    existing = make_artifact(files["0.iso"])
    r = requests.get(app.url(P + "reuse/0.iso"))
    assert r.content == files["0.iso"]
    ca = ContentArtifact.objects.get(relative_path="0.iso")
    assert ca.artifact_id == existing.pk


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Sends a file in 16 KiB pieces, 20 ms apart, so a download stays in flight for a while."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        data = (self.server.root / self.path.lstrip("/")).read_bytes()
        self.server.counts[self.path.lstrip("/")] = (
            self.server.counts.get(self.path.lstrip("/"), 0) + 1
        )
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(0, len(data), 16384):
            self.wfile.write(data[i : i + 16384])
            self.wfile.flush()
            time.sleep(0.02)


@pytest.fixture
def trickle(origin):
    fixture, _fast = origin
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    server.root, server.counts = fixture.root, {}
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fixture, server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("policy,expected_gets", [("on_demand", 1), ("streamed", 2)])
def test_late_joiners_beyond_replay_buffer(settings, trickle, policy, expected_gets):
    """Past the replay limit a late reader cannot get the beginning from memory: on_demand readers
    wait for the stored file (still one download), streamed readers fetch on their own."""
    settings.CONTENT_STREAM_REPLAY_LIMIT = 1000
    fixture, server, files = _setup(trickle, policy, f"late-{policy}")
    a = AppThread().start()
    try:
        url = a.url(P + f"late-{policy}/0.iso")
        first = requests.get(url, stream=True, timeout=30)
        head = first.raw.read(32 * 1024)  # bytes are flowing: the replay buffer is gone
        flight = next(iter(a.state.ondemand.flights.values()))
        assert not flight.done and not flight.replayable
        late = requests.get(url, timeout=30)
        rest = first.raw.read()
        first.close()
    finally:
        a.stop()
    assert head + rest == files["0.iso"]
    assert late.status_code == 200 and late.content == files["0.iso"]
    assert server.counts["0.iso"] == expected_gets
    assert _stored("0.iso") is (policy == "on_demand")


def test_two_processes_race_store_once(origin):
    """Two content apps (separate flight tables, like two processes) fetch the same file at once:
    both answer correctly and the bytes are stored exactly once."""
    fixture, server, files = _setup(origin, "on_demand", "race")
    server.behaviour["delay"] = {"1.iso": 0.3}
    a, b = AppThread().start(), AppThread().start()
    try:
        urls = [x.url(P + "race/1.iso") for x in (a, b) for _ in range(3)]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            bodies = list(pool.map(lambda u: requests.get(u, timeout=30).content, urls))
    finally:
        a.stop()
        b.stop()
    assert all(body == files["1.iso"] for body in bodies)
    assert server.counts["1.iso"] <= 2
    sha = hashlib.sha256(files["1.iso"]).hexdigest()
    assert Artifact.objects.filter(sha256=sha).count() == 1
    ca = ContentArtifact.objects.get(relative_path="1.iso")
    assert ca.artifact.sha256 == sha
