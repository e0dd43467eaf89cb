"""The served API document works for the real client, and the browsable docs load offline.

Runs its own small stack because static assets must be collected before the API starts
(whitenoise indexes STATIC_ROOT once at startup), and gives the CLI a private cache directory
so a document cached by an earlier run on the same port is never reused.
"""

import json
import re

import pytest
import requests

from tests.stack import Stack


@pytest.fixture(scope="module")
def docs_stack(tmp_path_factory):
    cache = tmp_path_factory.mktemp("xdg-cache")
    s = Stack("docs", extra_env={"XDG_CACHE_HOME": str(cache)}).setup()
    s.manage("collectstatic", "--no-input", "-v0")
    s.start_api(workers=1)
    yield s
    s.stop_all()
    s.drop_database()


def test_swagger_page_loads_local_assets(docs_stack):
    page = requests.get(docs_stack.url("docs/"), timeout=30)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assets = re.findall(r"""["'](/assets/[^"']+\.(?:js|css))["']""", page.text)
    assert any("swagger-ui-bundle" in a for a in assets), page.text[:2000]
    assert not re.search(r"https?://cdn", page.text), "docs page must not need the internet"
    for asset in assets:
        r = requests.get(docs_stack.url(asset), timeout=30)
        assert r.status_code == 200, asset
        assert len(r.content) > 1000, asset
    # The page points Swagger UI at our own document.
    assert "/pulp/api/v3/docs/api.json" in page.text


def test_document_served_as_json_for_pulp_glue(docs_stack):
    r = requests.get(
        docs_stack.url("docs/api.json"), headers={"Accept": "application/json"}, timeout=60
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["servers"] == [{"url": f"{docs_stack.base_url}/"}]
    assert doc["info"]["x-pulp-app-versions"]["core"].startswith("3.49.")


def test_pulp_glue_loads_and_calls(docs_stack, tmp_path, monkeypatch):
    """pulp-glue's own loader (download, strict parse, operation lookup, href path filling)."""
    from pulp_glue.common.authentication import BasicAuthProvider
    from pulp_glue.common.openapi import OpenAPI

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    api = OpenAPI(
        base_url=docs_stack.base_url,
        doc_path="/pulp/api/v3/docs/api.json",
        auth_provider=BasicAuthProvider("admin", docs_stack.admin_password),
        refresh_cache=True,
    )
    assert api.operations["status_read"] == ("get", "/pulp/api/v3/status/")
    status = api.call("status_read")
    assert status["database_connection"]["connected"] is True
    if "artifacts_read" in api.operations:
        created = docs_stack.post("artifacts/", files={"file": ("a.txt", b"glue reads hrefs\n")})
        assert created.status_code == 201, created.text
        href = created.json()["pulp_href"]
        read = api.call("artifacts_read", parameters={"artifact_href": href})
        assert read["pulp_href"] == href and read["size"] == 17


def test_pulp_cli_status_and_version_gate(docs_stack):
    res = docs_stack.pulp("status")
    body = json.loads(res.stdout)
    assert body["database_connection"]["connected"] is True
    assert {v["component"] for v in body["versions"]} >= {"core", "file"}
    docs_stack.pulp("debug", "has-plugin", "--name", "core", "--specifier", ">=3.49.0")
    gated = docs_stack.pulp(
        "debug", "has-plugin", "--name", "core", "--specifier", ">=3.50", check=False
    )
    assert gated.returncode != 0
    ids = docs_stack.pulp("debug", "openapi", "operation-ids").stdout
    assert "status_read" in ids
