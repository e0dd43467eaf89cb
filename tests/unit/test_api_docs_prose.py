"""The served API document explains itself: every operation, parameter and field has our text.

The contract check compares structure only (``tests/contract/contract.structure_only``); this
test makes sure the prose that check ignores is really there for readers of the docs page.
"""

import pytest

from tests.contract import contract as c

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def doc():
    return c.served_document()


def operations(doc):
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def test_document_has_an_introduction(doc):
    assert len(doc["info"]["description"]) > 80


def test_every_operation_has_summary_and_description(doc):
    bare = [
        op["operationId"]
        for _, _, op in operations(doc)
        if len(op.get("summary", "")) < 4 or len(op.get("description", "")) < 10
    ]
    assert not bare, bare
    summaries = {op["operationId"]: op["summary"] for _, _, op in operations(doc)}
    assert summaries["repositories_file_file_list"] == "List file repositories"
    assert summaries["repositories_file_file_sync"] == "Sync from a remote"
    assert summaries["tasks_cancel"] == "Cancel a task"
    assert summaries["uploads_update"] == "Upload a chunk"


def test_every_parameter_has_a_description(doc):
    bare = [
        (op["operationId"], p["name"])
        for _, _, op in operations(doc)
        for p in op.get("parameters", [])
        if len(p.get("description", "")) < 10
    ]
    assert not bare, bare[:20]
    params = {
        p["name"]: p["description"]
        for _, _, op in operations(doc)
        if op["operationId"] == "repositories_file_file_list"
        for p in op["parameters"]
    }
    assert "contains, ignoring case" in params["name__icontains"]
    assert "comma-separated" in params["name__in"]


def test_every_field_has_a_description(doc):
    bare = [
        (name, prop)
        for name, schema in doc["components"]["schemas"].items()
        for prop, body in schema.get("properties", {}).items()
        if len(body.get("description", "")) < 10
    ]
    assert not bare, bare[:20]
    remote = doc["components"]["schemas"]["file.FileRemote"]["properties"]
    assert "Write-only" in remote["password"]["description"]


def test_no_developer_docstring_leaks(doc):
    """Docstrings are written for developers (``code``, arrows); the document uses our texts."""
    for _, _, op in operations(doc):
        for text in (op.get("summary", ""), op.get("description", "")):
            assert "``" not in text and "→" not in text, (op["operationId"], text)


def test_contract_view_has_no_prose(doc):
    stripped = c.structure_only(doc)
    for _, _, op in operations(stripped):
        assert "summary" not in op and "description" not in op
        assert all("description" not in p for p in op.get("parameters", []))
        assert all(r.get("description") == "" for r in op["responses"].values())
