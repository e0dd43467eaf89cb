"""The content app keeps answering correctly when its database connections are killed, and can
hand file delivery to nginx (X-Accel-Redirect)."""

import time

import pytest
import requests
from django.db import connection

from tests.unit.content_support import AppThread, add_files, distribute, make_repository, publish

pytestmark = pytest.mark.django_db(transaction=True)

P = "/pulp/content/"


def _kill_other_backends() -> int:
    """Terminate every other session on the test database (the app's DB threads and LISTEN)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cur.fetchone()[0]


@pytest.fixture
def app():
    a = AppThread().start()
    a.wait_cache_ready()
    yield a
    a.stop()


def test_db_connections_killed_requests_still_served(app):
    repo = make_repository()
    add_files(repo, {"f.txt": b"one"})
    distribute("resil", repository=repo)
    url = app.url(P + "resil/f.txt")
    assert requests.get(url).content == b"one"
    assert requests.get(app.url(P + "resil/g.txt")).status_code == 404  # cached as missing
    assert _kill_other_backends() >= 2  # at least one DB thread and the LISTEN connection
    # A change made while the listener is down must still be seen: the cache turns itself off.
    add_files(repo, {"g.txt": b"two"})
    assert requests.get(app.url(P + "resil/g.txt")).content == b"two"
    assert requests.get(app.url(P + "resil/nothing")).status_code == 404
    # ...and it comes back on by itself.
    deadline = time.monotonic() + 15
    while not app.state.cache.enabled and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.state.cache.enabled
    add_files(repo, {"h.txt": b"three"})
    assert requests.get(app.url(P + "resil/h.txt")).content == b"three"


def test_x_accel_redirect_mode(settings):
    settings.CONTENT_X_ACCEL_REDIRECT = "/protected-artifacts/"
    repo = make_repository()
    version = add_files(repo, {"x/y.txt": b"payload"})
    distribute("accel", publication=publish(version))
    a = AppThread().start()
    try:
        r = requests.get(a.url(P + "accel/x/y.txt"))
    finally:
        a.stop()
    assert r.status_code == 200 and r.content == b""
    from pulpcore.app.models import Artifact

    art = Artifact.objects.get(sha256=__import__("hashlib").sha256(b"payload").hexdigest())
    assert r.headers["X-Accel-Redirect"] == "/protected-artifacts/" + art.file.name
    assert r.headers["Content-Type"].startswith("text/plain")


def test_x_accel_redirect_through_the_projects_nginx_site(settings, tmp_path):
    """The nginx site as the webserver role renders it (X-Accel on): nginx sends the bytes the
    content app points it at, ranges included, and the internal location is closed to clients."""
    import hashlib
    import os
    from pathlib import Path

    from pulpcore.app.models import Artifact
    from tests.bench.harness import Nginx, free_port

    settings.CONTENT_X_ACCEL_REDIRECT = "/pulp/protected-artifacts/"
    payload = os.urandom(200_000)
    repo = make_repository()
    distribute("accel-nginx", publication=publish(add_files(repo, {"big.bin": payload})))
    a = AppThread().start()
    nginx = Nginx(
        checkout=Path(__file__).resolve().parents[2],
        directory=tmp_path,
        api_bind=f"127.0.0.1:{free_port()}",
        content_bind=f"127.0.0.1:{a.port}",
        media_root=settings.MEDIA_ROOT,
        static_root=settings.STATIC_ROOT,
        ports=(free_port(), free_port(), free_port()),
        workers=1,
        site_vars={"pulp_content_x_accel_redirect": "/pulp/protected-artifacts/"},
    ).start()
    try:
        base = f"https://127.0.0.1:{nginx.https_port}"
        r = requests.get(f"{base}{P}accel-nginx/big.bin", verify=False, timeout=10)
        assert r.status_code == 200 and r.content == payload
        assert "X-Accel-Redirect" not in r.headers
        part = requests.get(
            f"{base}{P}accel-nginx/big.bin",
            headers={"Range": "bytes=1000-1999"},
            verify=False,
            timeout=10,
        )
        assert part.status_code == 206 and part.content == payload[1000:2000]
        art = Artifact.objects.get(sha256=hashlib.sha256(payload).hexdigest())
        direct = requests.get(
            f"{base}/pulp/protected-artifacts/{art.file.name}", verify=False, timeout=10
        )
        assert direct.status_code == 404 and payload not in direct.content
    finally:
        nginx.stop()
        a.stop()
