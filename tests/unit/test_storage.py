"""The storage seam against both backends: the filesystem under MEDIA_ROOT and a real S3 server
(moto's, over HTTP). Artifacts, their removal, presence checks and process-start checks."""

import hashlib
import os

import pytest

from pulpcore.app import storage as st
from pulpcore.app.models import Artifact, new_temp_path

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
