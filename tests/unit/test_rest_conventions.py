"""REST conventions shared by every endpoint, checked through Django's full request stack.

Hrefs are paths, lists paginate with count/next/previous/results, ``fields``/``exclude_fields``
shape the output, undeclared filters are refused, bodies are ``application/json`` without a
charset, ``Correlation-ID`` is echoed or replaced (also on errors), and bad bodies are 4xx.
"""

import hashlib
import json
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from pulpcore.app.models import Artifact
from pulpcore.app.viewsets.base import REGISTRY

pytestmark = pytest.mark.django_db

API = "/pulp/api/v3/"
ARTIFACTS = f"{API}artifacts/"


class _EchoSerializer(serializers.Serializer):
    name = serializers.CharField()


class EchoView(APIView):
    """Uses only the project's defaults (parsers, auth, renderer, exception handler)."""

    def post(self, request):
        s = _EchoSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(s.validated_data)


class DuplicateView(APIView):
    """Violates a unique constraint the way a racing request would."""

    def post(self, request):
        sha = "d" * 64
        for _ in range(2):
            Artifact.objects.create(file=f"artifact/dd/{sha[2:]}", size=1, sha256=sha)
        return Response({})


class ProtectedDeleteView(APIView):
    """Deletes an artifact that content still uses, bypassing the artifacts endpoint's check."""

    def delete(self, request):
        from pulp_file.app.models import FileContent
        from pulpcore.app.models import ContentArtifact

        art = make_artifacts(1)[0]
        content = FileContent.objects.create(relative_path="p", digest=art.sha256)
        ContentArtifact.objects.create(content=content, artifact=art, relative_path="p")
        art.delete()
        return Response({})


class BoomView(APIView):
    def get(self, request):
        raise RuntimeError("unexpected failure in a view")


urlpatterns = [
    path("test-only/echo/", EchoView.as_view()),
    path("test-only/boom/", BoomView.as_view()),
    path("test-only/duplicate/", DuplicateView.as_view()),
    path("test-only/protected/", ProtectedDeleteView.as_view()),
    path("", include("pulpcore.app.urls")),
]


@pytest.fixture
def admin():
    return get_user_model().objects.create(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def client(admin):
    c = Client()
    c.force_login(admin)
    return c


def make_artifacts(n: int) -> list[Artifact]:
    out = []
    for i in range(n):
        sha = hashlib.sha256(f"conv-{i}-{uuid.uuid4()}".encode()).hexdigest()
        out.append(
            Artifact.objects.create(
                file=f"artifact/{sha[:2]}/{sha[2:]}", size=i + 1, sha256=sha, sha512="e" * 128
            )
        )
    return out


def test_pulp_href_is_a_path(client):
    art = make_artifacts(1)[0]
    body = client.get(ARTIFACTS).json()
    assert body["results"][0]["pulp_href"] == f"{ARTIFACTS}{art.pk}/"


def test_pagination_count_next_previous_results(client):
    make_artifacts(5)
    page1 = client.get(ARTIFACTS, {"limit": 2}).json()
    assert set(page1) == {"count", "next", "previous", "results"}
    assert page1["count"] == 5 and len(page1["results"]) == 2
    assert page1["previous"] is None
    assert "limit=2" in page1["next"] and "offset=2" in page1["next"]
    page3 = client.get(ARTIFACTS, {"limit": 2, "offset": 4}).json()
    assert len(page3["results"]) == 1 and page3["next"] is None
    assert "offset=2" in page3["previous"]
    seen = [
        a["pulp_href"]
        for p in (0, 2, 4)
        for a in client.get(ARTIFACTS, {"limit": 2, "offset": p}).json()["results"]
    ]
    assert len(set(seen)) == 5, "pages overlap or skip objects"


def test_fields_and_exclude_fields(client):
    art = make_artifacts(1)[0]
    body = client.get(ARTIFACTS, {"fields": "pulp_href,size"}).json()
    assert body["results"] == [{"pulp_href": f"{ARTIFACTS}{art.pk}/", "size": 1}]
    body = client.get(f"{ARTIFACTS}{art.pk}/", {"fields": "sha256"}).json()
    assert body == {"sha256": art.sha256}
    body = client.get(f"{ARTIFACTS}{art.pk}/", {"exclude_fields": "sha512,md5,file"}).json()
    assert "sha512" not in body and "md5" not in body and "file" not in body
    assert body["sha256"] == art.sha256
    # Repeated parameters combine.
    body = client.get(f"{ARTIFACTS}{art.pk}/?fields=size&fields=sha256").json()
    assert set(body) == {"size", "sha256"}


def test_undeclared_filter_is_400_in_pulp_shape(client):
    make_artifacts(1)
    r = client.get(ARTIFACTS, {"sha257": "x", "limit": 1})
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Invalid Filter: 'sha257'"}


def test_declared_filters_of_every_list_pass_the_strict_check(client):
    # Declared filters (and the always-allowed paging/field params) are not "unknown".
    r = client.get(ARTIFACTS, {"limit": 1, "offset": 0, "fields": "size", "sha256": "x"})
    assert r.status_code == 200


def test_content_type_is_plain_application_json(client):
    make_artifacts(1)
    for resp in (
        client.get(ARTIFACTS),
        client.get(f"{ARTIFACTS}{uuid.uuid4()}/"),
        client.get(ARTIFACTS, {"nope": 1}),
        Client().get(ARTIFACTS),
        client.get(f"{API}status/"),
    ):
        assert resp["Content-Type"] == "application/json", resp


@pytest.mark.parametrize(
    "cid",
    [
        "0123456789abcdef0123456789ABCDEF",
        "d1f3c5e2-7a4b-4c8d-9e0f-123456789abc",
        "{d1f3c5e2-7a4b-4c8d-9e0f-123456789abc}",
    ],
)
def test_well_formed_correlation_id_is_echoed(client, cid):
    r = client.get(ARTIFACTS, headers={"Correlation-ID": cid})
    assert r["Correlation-ID"] == cid


@pytest.mark.parametrize(
    "bad",
    [
        "deadbeefdeadbeefdeadbeefdeadxxxx",  # 32 characters, not all hex
        "my-request-42",
        "deadbeef" * 3,
        "0123456789abcdef0123456789abcdef0",
        "has space",
        "x" * 200,
        "semi;colon",
        "ünïcode",
    ],
)
def test_invalid_correlation_id_is_replaced(client, bad):
    r = client.get(ARTIFACTS, headers={"Correlation-ID": bad})
    assert r["Correlation-ID"] != bad
    assert re.fullmatch(r"[0-9a-f]{32}", r["Correlation-ID"])


def test_missing_correlation_id_is_generated_and_unique(client):
    a = client.get(ARTIFACTS)["Correlation-ID"]
    b = client.get(ARTIFACTS)["Correlation-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", a) and a != b


@override_settings(ROOT_URLCONF=__name__)
def test_correlation_id_on_4xx_and_5xx(admin):
    c = Client(raise_request_exception=False)
    cid401, cid404, cid500 = (uuid.uuid4().hex for _ in range(3))
    r = c.get(ARTIFACTS, headers={"Correlation-ID": cid401})
    assert r.status_code == 401 and r["Correlation-ID"] == cid401
    c.force_login(admin)
    r = c.get(f"{ARTIFACTS}nope/", headers={"Correlation-ID": cid404})
    assert r.status_code == 404 and r["Correlation-ID"] == cid404
    r = c.get("/test-only/boom/", headers={"Correlation-ID": cid500})
    assert r.status_code == 500 and r["Correlation-ID"] == cid500


@override_settings(ROOT_URLCONF=__name__)
def test_malformed_and_non_json_bodies_are_4xx(client):
    ok = client.post("/test-only/echo/", '{"name": "x"}', content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"name": "x"}
    r = client.post("/test-only/echo/", '{"name": ', content_type="application/json")
    assert r.status_code == 400 and "JSON parse error" in r.json()["detail"]
    r = client.post("/test-only/echo/", b"\xff\xfe\x00", content_type="application/json")
    assert r.status_code == 400 and "detail" in r.json()
    r = client.post("/test-only/echo/", "[1, 2]", content_type="application/json")
    assert r.status_code == 400 and "non_field_errors" in r.json()
    r = client.post("/test-only/echo/", "name=x", content_type="text/plain")
    assert r.status_code == 415 and "Unsupported media type" in r.json()["detail"]


def test_json_body_on_every_writable_endpoint_is_never_500(client):
    """Bad bodies to any registered create endpoint are a 4xx with a JSON body."""
    bodies = [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("null", "application/json"),
        ('"a string"', "application/json"),
        ('{"name": {"nested": [1]}, "url": 5, "repository": "/not/an/href/"}', "application/json"),
        ("name=x", "text/plain"),
    ]
    tried = 0
    for viewset in REGISTRY:
        if not hasattr(viewset, "create") or viewset.parent_viewset is not None:
            continue
        url = f"{API}{viewset.url_prefix()}/"
        for body, content_type in bodies:
            r = client.post(url, body, content_type=content_type)
            assert 400 <= r.status_code < 500, (url, body, r.status_code, r.content[:300])
            assert isinstance(json.loads(r.content), dict), (url, body)
        tried += 1
    assert tried >= 1, "no create endpoint registered"


@override_settings(ROOT_URLCONF=__name__)
def test_integrity_error_is_409_naming_the_value(client):
    r = client.post("/test-only/duplicate/")
    assert r.status_code == 409
    assert r.json() == {
        "detail": f"The request conflicts with existing data: Key (sha256)=({'d' * 64}) "
        "already exists."
    }


@override_settings(ROOT_URLCONF=__name__)
def test_protected_delete_is_409(client):
    r = client.delete("/test-only/protected/")
    assert r.status_code == 409
    assert r.json() == {
        "detail": "The object cannot be deleted because 1 other object still refers to it."
    }
