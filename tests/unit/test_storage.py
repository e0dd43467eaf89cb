"""The storage seam against both backends: the filesystem under MEDIA_ROOT and a real S3 server
(moto's, over HTTP). Artifacts, their removal, presence checks and process-start checks."""

import hashlib
import os
import subprocess
import sys
import time

import pytest

from pulpcore.app import storage as st
from pulpcore.app.models import Artifact, new_temp_path
from tests.s3 import MotoServer

pytestmark = pytest.mark.django_db


def _temp_with(data: bytes) -> str:
    path = new_temp_path()
    with open(path, "wb") as fp:
        fp.write(data)
    return path


def test_artifact_round_trip(storage_backend):
    data = os.urandom(3000)
    path = _temp_with(data)
    artifact = Artifact.init_and_validate(path).save_with_file(path)
    name = artifact.file.name
    assert name == st.artifact_relpath(hashlib.sha256(data).hexdigest())
    assert not os.path.exists(path), "the verified temp file is consumed"
    with st.open_stored(name) as fp:
        assert fp.read() == data
    assert st.stored_size(name) == len(data) and st.stored_exists(name)
    if storage_backend is None:
        assert st.local_path(name) == os.path.join(os.environ["PULP_MEDIA_ROOT"], name)
    else:
        assert st.local_path(name) is None and st.is_s3()
        assert storage_backend.read(name) == data  # really in the bucket
        assert not os.path.exists(os.path.join(os.environ["PULP_MEDIA_ROOT"], name))
    st.delete_stored(name)
    st.delete_stored(name)  # already gone: not an error
    assert not st.stored_exists(name)
    with pytest.raises(FileNotFoundError):
        st.stored_size(name)


def test_large_file_is_uploaded_in_parts(s3_storage):
    """Above boto3's multipart threshold (8 MiB) an upload is multipart: S3 ETags say so."""
    storage_backend = s3_storage
    data = os.urandom(9 * 1024 * 1024)
    path = _temp_with(data)
    name = st.place_artifact_file(path, hashlib.sha256(data).hexdigest())
    head = storage_backend.client().head_object(Bucket=storage_backend.bucket, Key=name)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]  # two parts
    st.delete_stored(name)


def test_presigned_url_expires_and_is_signed_afresh(s3_storage, settings):
    """Every URL carries AWS_QUERYSTRING_EXPIRE; a later call signs a new one.

    (moto's server does not enforce the expiry itself, so refusal past it is the store's part and
    is not asserted here; what Pulp controls, the lifetime and the fresh signature, is.)
    """
    import time
    from urllib.parse import parse_qs, urlsplit

    import requests

    settings.AWS_QUERYSTRING_EXPIRE = 7
    settings.STORAGES = dict(settings.STORAGES)  # storages are rebuilt with the new expiry
    data = b"signed bytes"
    name = st.place_artifact_file(_temp_with(data), hashlib.sha256(data).hexdigest())
    url = st.presigned_url(name, "text/plain")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["7"] and "X-Amz-Signature" in query
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Type"] == "text/plain"
    time.sleep(1.1)
    fresh = st.presigned_url(name)
    assert parse_qs(urlsplit(fresh).query)["X-Amz-Date"] != query["X-Amz-Date"]
    assert requests.get(fresh, timeout=10).content == data


# --- a store that refuses us: one line at process start, status/ says so quickly ----------------
@pytest.fixture(scope="module")
def strict_s3():
    """A moto server that checks credentials (the session's one accepts any)."""
    server = MotoServer(bucket="strict-bucket", authenticate=True).start()
    yield server
    server.stop()


BIN = os.path.dirname(sys.executable)
PROCESSES = {
    "content": [os.path.join(BIN, "pulp-content"), "--bind", "127.0.0.1:0"],
    "worker": [os.path.join(BIN, "pulpcore-worker")],
    "api": [sys.executable, "-c", "import pulpcore.app.wsgi"],
}


def _start(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pulpcore.app.settings", **env}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=90)


def _one_config_line(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("pulp: configuration error: storage: "), lines
    return lines[0]


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_missing_bucket_stops_each_process_with_one_line(strict_s3, process):
    res = _start(PROCESSES[process], strict_s3.environ(PULP_AWS_STORAGE_BUCKET_NAME="no-such"))
    line = _one_config_line(res)
    assert "'no-such'" in line and "does not exist" in line and strict_s3.endpoint in line


def test_wrong_credentials_stop_the_content_app_with_one_line(strict_s3):
    res = _start(
        PROCESSES["content"], strict_s3.environ(PULP_AWS_SECRET_ACCESS_KEY="not-the-secret")
    )
    line = _one_config_line(res)
    assert "refused the credentials" in line
    assert "not-the-secret" not in res.stderr and strict_s3.secret_key not in res.stderr


def test_right_credentials_pass_the_probe(strict_s3, settings):
    from tests.s3 import use_s3

    use_s3(settings, strict_s3)
    st.probe()  # raises StorageUnavailable otherwise
    settings.AWS_SECRET_ACCESS_KEY = "wrong"
    settings.STORAGES = dict(settings.STORAGES)
    with pytest.raises(st.StorageUnavailable, match="refused the credentials"):
        st.probe()


def test_status_reports_storage_unavailable_without_hanging(s3_outage, client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create(username="status-admin", is_superuser=True)
    client.force_login(admin)
    body = client.get("/pulp/api/v3/status/").json()
    assert "storage" not in body  # a bucket that answers has no disk figures
    s3_outage.down()
    started = time.monotonic()
    body = client.get("/pulp/api/v3/status/").json()
    assert time.monotonic() - started < 10
    assert body["storage"] == {"total": None, "used": None, "free": None}
    assert body["database_connection"] == {"connected": True}
