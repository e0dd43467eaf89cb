"""``artifacts/``: multipart upload verified against checksums, list/read/filters, delete.

Requests go through Django's full stack (middleware, multipart parser, upload handlers) against a
real PostgreSQL database and the real MEDIA_ROOT / WORKING_DIRECTORY of the test environment.
"""

import hashlib
import os
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from pulpcore.app.models import Artifact, ContentArtifact, RepositoryVersion
from pulpcore.app.viewsets.filters.content import artifacts_in_version

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/pulp/api/v3/artifacts/"


@pytest.fixture
def client():
    user = get_user_model().objects.create(username="admin", is_superuser=True, is_staff=True)
    c = APIClient()
    c.force_authenticate(user)
    return c


def upload(client, data: bytes, name: str = "blob.bin", **fields):
    payload = {"file": SimpleUploadedFile(name, data), **fields}
    return client.post(URL, payload, format="multipart")


def working_files() -> set[str]:
    os.makedirs(settings.WORKING_DIRECTORY, exist_ok=True)
    return set(os.listdir(settings.WORKING_DIRECTORY))


def stored_path(body: dict) -> str:
    return os.path.join(settings.MEDIA_ROOT, body["file"])


def test_upload_computes_allowed_checksums_and_stores_by_sha256(client):
    data = os.urandom(3000)
    before = working_files()
    r = upload(client, data)
    assert r.status_code == 201, r.content
    body = r.json()
    sha256 = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == sha256
    assert body["sha224"] == hashlib.sha224(data).hexdigest()
    assert body["sha384"] == hashlib.sha384(data).hexdigest()
    assert body["sha512"] == hashlib.sha512(data).hexdigest()
    # md5 and sha1 are not in the default ALLOWED_CONTENT_CHECKSUMS: not computed, not stored.
    assert body["md5"] is None and body["sha1"] is None
    assert body["size"] == 3000
    assert body["file"] == f"artifact/{sha256[:2]}/{sha256[2:]}"
    assert body["pulp_href"].startswith(URL) and body["pulp_href"].endswith("/")
    assert not body["pulp_href"].startswith("http")
    with open(stored_path(body), "rb") as fp:
        assert fp.read() == data
    assert os.stat(stored_path(body)).st_mode & 0o777 == 0o644
    assert r["Content-Type"] == "application/json"
    assert working_files() == before, "temporary upload file left behind"
    artifact = Artifact.objects.get(sha256=sha256)
    assert artifact.size == 3000


def test_upload_with_correct_size_and_checksums(client):
    data = b"hello artifact\n" * 100
    r = upload(
        client,
        data,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sha512=hashlib.sha512(data).hexdigest().upper(),
    )
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("field", ["sha256", "sha224", "sha384", "sha512", "size"])
def test_upload_with_wrong_value_is_400_naming_the_field(client, field):
    data = os.urandom(1000)
    wrong = "12345" if field == "size" else hashlib.new(field, b"other").hexdigest()
    before = working_files()
    r = upload(client, data, **{field: wrong})
    assert r.status_code == 400, r.content
    body = r.json()
    assert list(body) == [field]
    assert "does not match" in body[field][0]
    assert not Artifact.objects.exists()
    sha256 = hashlib.sha256(data).hexdigest()
    assert not os.path.exists(os.path.join(settings.MEDIA_ROOT, "artifact", sha256[:2], sha256[2:]))
    assert working_files() == before


@pytest.mark.parametrize("field", ["md5", "sha1"])
def test_checksum_not_allowed_is_400(client, field):
    data = os.urandom(100)
    r = upload(client, data, **{field: hashlib.new(field, data).hexdigest()})
    assert r.status_code == 400
    assert "not allowed" in r.json()[field][0]
    assert not Artifact.objects.exists()


def test_duplicate_upload_is_400_and_keeps_the_first(client):
    data = os.urandom(500)
    first = upload(client, data)
    assert first.status_code == 201
    before = working_files()
    r = upload(client, data, name="again.bin")
    assert r.status_code == 400
    message = r.json()["non_field_errors"][0]
    assert "already exists" in message and hashlib.sha256(data).hexdigest() in message
    assert Artifact.objects.count() == 1
    with open(stored_path(first.json()), "rb") as fp:
        assert fp.read() == data
    assert working_files() == before


def test_stray_file_at_destination_is_replaced_by_verified_bytes(client):
    data = os.urandom(700)
    sha256 = hashlib.sha256(data).hexdigest()
    dest = os.path.join(settings.MEDIA_ROOT, "artifact", sha256[:2], sha256[2:])
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as fp:
        fp.write(b"half-written garbage from a crash")
    before = working_files()
    r = upload(client, data)
    assert r.status_code == 201
    with open(dest, "rb") as fp:
        assert fp.read() == data
    assert os.stat(dest).st_mode & 0o777 == 0o644
    assert working_files() == before


def test_missing_file_and_json_body_are_4xx(client):
    r = client.post(URL, {"size": 3}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()
    r = client.post(URL, {"file": "x"}, format="json")
    assert r.status_code == 415 and "detail" in r.json()
    r = client.post(URL, b"\x00\x01garbage", content_type="application/octet-stream")
    assert r.status_code == 415 and "detail" in r.json()


def test_empty_file_is_400(client):
    r = upload(client, b"")
    assert r.status_code == 400 and "file" in r.json()
    assert not Artifact.objects.exists()


def test_large_upload_is_streamed_to_working_directory(client):
    # Several multipart chunks (1 MiB each): digests must equal one pass over all bytes.
    data = os.urandom(3 * 1024 * 1024 + 17)
    r = upload(client, data, sha256=hashlib.sha256(data).hexdigest())
    assert r.status_code == 201, r.content
    assert r.json()["sha512"] == hashlib.sha512(data).hexdigest()
    assert os.path.getsize(stored_path(r.json())) == len(data)


def test_read_and_malformed_href(client):
    href = upload(client, b"read me").json()["pulp_href"]
    r = client.get(href)
    assert r.status_code == 200 and r.json()["pulp_href"] == href
    r = client.get(f"{URL}not-a-uuid/")
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    r = client.get(f"{URL}{uuid.uuid4()}/")
    assert r.status_code == 404
    r = client.delete(f"{URL}not-a-uuid/")
    assert r.status_code == 404


def test_list_and_checksum_filters(client):
    blobs = [os.urandom(64 + i) for i in range(3)]
    for b in blobs:
        assert upload(client, b).status_code == 201
    r = client.get(URL)
    assert r.json()["count"] == 3
    sha = hashlib.sha256(blobs[1]).hexdigest()
    r = client.get(URL, {"sha256": sha})
    assert [a["sha256"] for a in r.json()["results"]] == [sha]
    sha512 = hashlib.sha512(blobs[2]).hexdigest()
    assert client.get(URL, {"sha512": sha512}).json()["count"] == 1
    assert client.get(URL, {"sha224": "0" * 56}).json()["count"] == 0
    assert client.get(URL, {"md5": "0" * 32}).json()["count"] == 0


def test_ordering(client):
    for n in (30, 10, 20):
        upload(client, os.urandom(n))
    sizes = [a["size"] for a in client.get(URL, {"ordering": "size"}).json()["results"]]
    assert sizes == [10, 20, 30]
    sizes = [a["size"] for a in client.get(URL, {"ordering": "-size"}).json()["results"]]
    assert sizes == [30, 20, 10]
    r = client.get(URL, {"ordering": "nonsense"})
    assert r.status_code == 400 and "ordering" in r.json()


def test_pulp_href_in_and_pulp_id_in(client):
    hrefs = [upload(client, os.urandom(10 + i)).json()["pulp_href"] for i in range(3)]
    r = client.get(URL, {"pulp_href__in": ",".join(hrefs[:2])})
    assert sorted(a["pulp_href"] for a in r.json()["results"]) == sorted(hrefs[:2])
    ids = [h.rstrip("/").rsplit("/", 1)[1] for h in hrefs]
    r = client.get(URL, {"pulp_id__in": ids[2]})
    assert [a["pulp_href"] for a in r.json()["results"]] == [hrefs[2]]
    assert client.get(URL, {"pulp_id__in": "nope"}).status_code == 400
    r = client.get(URL, {"pulp_href__in": "/pulp/api/v3/artifacts/nope/"})
    assert r.status_code == 400 and "pulp_href__in" in r.json()
    r = client.get(URL, {"pulp_href__in": f"/pulp/api/v3/workers/{uuid.uuid4()}/"})
    assert r.status_code == 400 and "is not a" in r.json()["pulp_href__in"][0]
    r = client.get(URL, {"pulp_href__in": "/pulp/api/v3/no-such-endpoint/"})
    assert r.status_code == 400
    # Hrefs of artifacts that do not exist simply match nothing.
    r = client.get(URL, {"pulp_href__in": f"{URL}{uuid.uuid4()}/"})
    assert r.status_code == 200 and r.json()["count"] == 0


def test_q_expression(client):
    blobs = [os.urandom(20 + i) for i in range(3)]
    for b in blobs:
        upload(client, b)
    s0, s1 = (hashlib.sha256(b).hexdigest() for b in blobs[:2])
    r = client.get(URL, {"q": f'sha256="{s0}" OR sha256="{s1}"'})
    assert r.json()["count"] == 2
    r = client.get(URL, {"q": f'NOT sha256="{s0}"'})
    assert r.json()["count"] == 2
    assert client.get(URL, {"q": "sha256=("}).status_code == 400
    assert client.get(URL, {"q": 'bogus="1"'}).status_code == 400


def _file_content_using(artifact: Artifact, path: str = "a.txt"):
    from pulp_file.app.models import FileContent

    content = FileContent.objects.create(relative_path=path, digest=artifact.sha256)
    ContentArtifact.objects.create(content=content, artifact=artifact, relative_path=path)
    return content


def test_orphaned_for(client):
    used = Artifact.objects.get(pk=_pk(upload(client, b"used").json()))
    orphan_href = upload(client, b"orphan").json()["pulp_href"]
    _file_content_using(used)
    hrefs = [a["pulp_href"] for a in client.get(URL, {"orphaned_for": 0}).json()["results"]]
    assert hrefs == [orphan_href]
    # Not orphaned for long enough yet.
    assert client.get(URL, {"orphaned_for": 60}).json()["count"] == 0
    Artifact.objects.filter(pk=_pk({"pulp_href": orphan_href})).update(
        timestamp_of_interest=timezone.now() - timedelta(hours=2)
    )
    assert client.get(URL, {"orphaned_for": 60}).json()["count"] == 1
    assert client.get(URL, {"orphaned_for": "soon"}).status_code == 400
    assert client.get(URL, {"orphaned_for": "NaN"}).status_code == 400
    assert client.get(URL, {"orphaned_for": -5}).status_code == 400
    # More minutes than dates reach back: bad input, as on content lists (not a 500).
    r = client.get(URL, {"orphaned_for": "1e20"})
    assert r.status_code == 400 and "orphaned_for" in r.json()


def test_artifacts_in_version(client):
    from pulp_file.app.models import FileRepository

    a1 = Artifact.objects.get(pk=_pk(upload(client, b"one").json()))
    a2 = Artifact.objects.get(pk=_pk(upload(client, b"two").json()))
    upload(client, b"three")
    c1, c2 = _file_content_using(a1, "1"), _file_content_using(a2, "2")
    repo = FileRepository.objects.create(name="r")
    v1 = RepositoryVersion.objects.create(repository=repo, number=1)
    v1.add_content(type(c1).objects.filter(pk=c1.pk))
    v1.complete = True
    v1.save()
    v2 = RepositoryVersion.objects.create(repository=repo, number=2, base_version=v1)
    v2.add_content(type(c2).objects.filter(pk=c2.pk))
    v2.complete = True
    v2.save()
    assert set(artifacts_in_version(v1)) == {a1}
    assert set(artifacts_in_version(v2)) == {a1, a2}


def test_repository_version_filter(client):
    from pulp_file.app.models import FileRepository
    from pulpcore.app.util import get_url

    a1 = Artifact.objects.get(pk=_pk(upload(client, b"in v1").json()))
    a2 = Artifact.objects.get(pk=_pk(upload(client, b"in v2").json()))
    upload(client, b"in no version")
    c1, c2 = _file_content_using(a1, "1"), _file_content_using(a2, "2")
    repo = FileRepository.objects.create(name="rv-filter", next_version=1)
    RepositoryVersion.objects.create(repository=repo, number=0, complete=True)
    v1 = repo.new_version()
    v1.add_content(type(c1).objects.filter(pk=c1.pk))
    v1.complete_version()
    v2 = repo.new_version()
    v2.add_content(type(c2).objects.filter(pk=c2.pk))
    v2.complete_version()

    def listed(version) -> set[str]:
        r = client.get(URL, {"repository_version": get_url(version)})
        assert r.status_code == 200, r.content
        return {a["sha256"] for a in r.json()["results"]}

    v0 = repo.versions.get(number=0)
    assert get_url(v1).endswith("/versions/1/")
    assert listed(v0) == set()
    assert listed(v1) == {a1.sha256}
    assert listed(v2) == {a1.sha256, a2.sha256}
    # Combined with another filter.
    r = client.get(URL, {"repository_version": get_url(v2), "sha256": a2.sha256})
    assert [a["sha256"] for a in r.json()["results"]] == [a2.sha256]
    # An href of the wrong type, or of a version that does not exist, is a 400.
    r = client.get(URL, {"repository_version": get_url(repo)})
    assert r.status_code == 400 and "repository_version" in r.json()
    r = client.get(URL, {"repository_version": get_url(repo) + "versions/99/"})
    assert r.status_code == 400


def test_repository_version_filter_rejects_bad_href(client):
    r = client.get(URL, {"repository_version": "/pulp/api/v3/artifacts/nope/"})
    assert r.status_code == 400 and "repository_version" in r.json()


def test_delete_removes_row_and_file(client):
    body = upload(client, b"delete me").json()
    path = stored_path(body)
    assert os.path.exists(path)
    r = client.delete(body["pulp_href"])
    assert r.status_code == 204
    assert not Artifact.objects.exists()
    assert not os.path.exists(path)
    assert client.get(body["pulp_href"]).status_code == 404


def test_delete_in_use_is_409(client):
    body = upload(client, b"in use").json()
    artifact = Artifact.objects.get(pk=_pk(body))
    _file_content_using(artifact)
    r = client.delete(body["pulp_href"])
    assert r.status_code == 409
    assert "associated with Content" in r.json()["detail"]
    assert Artifact.objects.filter(pk=artifact.pk).exists()
    assert os.path.exists(stored_path(body))


def test_update_is_not_allowed(client):
    href = upload(client, b"fixed").json()["pulp_href"]
    assert client.patch(href, {"size": 1}, format="json").status_code == 405
    assert client.put(href, {"size": 1}, format="json").status_code == 405


def _pk(body: dict) -> str:
    return body["pulp_href"].rstrip("/").rsplit("/", 1)[1]
