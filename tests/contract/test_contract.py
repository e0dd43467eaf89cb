"""Our served OpenAPI document must agree with the Pulp 3.49 contract that pulp-cli relies on.

One test per operation we serve and per component those operations reach, so a failure names
the operationId/component and says exactly what differs. ``pending_operations.txt`` lists the
contract operations not implemented yet; it may only shrink.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.contract import contract as c


def pytest_generate_tests(metafunc):
    # Parametrised from the document itself so each operation/component is its own test.
    if "operation_id" in metafunc.fixturenames:
        metafunc.parametrize("operation_id", sorted(c.operations(c.ours())))
    if "component" in metafunc.fixturenames:
        metafunc.parametrize("component", sorted(c.reachable_components(c.ours())))


# --- per operation / component -------------------------------------------------------------------
def test_operation_matches_contract(operation_id):
    mine = c.operations(c.ours())[operation_id]
    theirs = c.operations(c.contract()).get(operation_id)
    if theirs is None:
        same_route = [
            op_id
            for op_id, (method, path, _) in c.operations(c.contract()).items()
            if (method, path) == mine[:2]
        ]
        hint = (
            f"; the contract names {mine[0]} {mine[1]} {same_route[0]!r} "
            "(set it with @extend_schema(operation_id=...) if it is not derivable)"
            if same_route
            else ""
        )
        pytest.fail(f"{operation_id} ({mine[0]} {mine[1]}) is not a contract operation{hint}")
    diffs = c.compare_operation(operation_id, mine, theirs)
    assert not diffs, c.format_operation_diff(operation_id, mine, diffs)


def test_component_matches_contract(component):
    mine = c.ours()["components"]["schemas"].get(component)
    users = ", ".join(sorted(c.reachable_components(c.ours())[component]))
    assert mine is not None, f"{component} is referenced (by {users}) but not defined"
    theirs = c.contract()["components"]["schemas"].get(component)
    assert theirs is not None, f"component {component} (used by {users}) is not in the contract"
    diffs = c.compare_component(component, mine, theirs)
    assert not diffs, c.format_component_diff(
        component, c.reachable_components(c.ours())[component], diffs
    )


# --- pending list --------------------------------------------------------------------------------
def test_pending_list_is_well_formed():
    text = c.PENDING_PATH.read_text()
    assert text.startswith("#"), "pending_operations.txt must start with its header comment"
    ids = c.pending_ids()
    assert ids == sorted(ids), "pending_operations.txt must be sorted"
    assert len(ids) == len(set(ids)), "pending_operations.txt has duplicate lines"
    unknown = sorted(set(ids) - set(c.operations(c.contract())))
    assert not unknown, f"not contract operationIds: {unknown}"


def test_every_missing_operation_is_pending():
    missing = set(c.missing_operations(c.ours())) - set(c.pending_ids())
    assert not missing, (
        "contract operations missing from our document and not listed as pending "
        f"(an operation disappeared?): {sorted(missing)}"
    )


def test_no_implemented_operation_is_pending():
    implemented = sorted(set(c.pending_ids()) & set(c.operations(c.ours())))
    assert not implemented, (
        "these operations are implemented now: delete their lines from "
        f"tests/contract/pending_operations.txt: {implemented}"
    )


def _type_enum_values(document: dict) -> set[str]:
    values = set()
    for _, _, op in c.operations(document).values():
        for prm in op.get("parameters", []):
            if f"{prm.get('in')}:{prm.get('name')}" in c.TYPE_PARAMETERS:
                schema = prm["schema"]
                values.update(schema.get("items", schema).get("enum", []))
    return values


def test_pending_types_are_contract_types_not_served():
    contract_types = _type_enum_values(c.contract())
    assert c.PENDING_TYPES <= contract_types, sorted(c.PENDING_TYPES - contract_types)
    served = c.PENDING_TYPES & _type_enum_values(c.ours())
    assert not served, (
        f"these types are installed now: remove them from PENDING_TYPES in "
        f"tests/contract/contract.py: {sorted(served)}"
    )


def test_served_types_are_contract_types():
    extra = _type_enum_values(c.ours()) - _type_enum_values(c.contract())
    assert not extra, f"pulp_type values the contract does not know: {sorted(extra)}"


# --- document level ------------------------------------------------------------------------------
def test_document_header():
    doc = c.ours()
    assert doc["openapi"] == "3.0.3"
    info = doc["info"]
    assert info["title"] == "Pulp 3 API" and info["version"] == "v3"
    assert info["x-pulp-domain-enabled"] is False
    assert info["x-logo"] == c.contract()["info"]["x-logo"]
    versions = info["x-pulp-app-versions"]
    assert set(versions) >= {"core", "file"}
    assert all(v.startswith("3.49.") for v in versions.values()), versions
    assert "security" not in doc
    assert doc["components"]["securitySchemes"] == c.contract()["components"]["securitySchemes"]
    assert doc["servers"] == [{"url": "http://localhost:24817/"}]


def test_servers_follow_request_host():
    doc = c.served_document(host="pulp.example.invalid:8080")
    assert doc["servers"] == [{"url": "http://pulp.example.invalid:8080/"}]


def test_no_prose_in_document():
    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if where != "properties":
                    assert key not in ("summary", "example", "examples"), (key, node)
                    if key == "description":
                        assert value == "", f"description text left in {node}"
                walk(value, key)
        elif isinstance(node, list):
            for item in node:
                walk(item, None)

    walk(c.ours()["paths"], None)
    walk(c.ours()["components"], None)


def test_every_get_and_operation_has_standard_parameters():
    for op_id, (method, _, op) in c.operations(c.ours()).items():
        names = {(p["in"], p["name"]) for p in op.get("parameters", [])}
        assert ("header", "X-Task-Diagnostics") in names, op_id
        if method == "GET":
            assert {("query", "fields"), ("query", "exclude_fields")} <= names, op_id


def test_href_path_keys_and_pk_path_variant():
    href_ops = {
        op_id: path for op_id, (_, path, _) in c.operations(c.ours()).items() if path[0] == "{"
    }
    assert href_ops, "no object routes served as {<name>_href} keys"
    for op_id, path in href_ops.items():
        op = c.operations(c.ours())[op_id][2]
        path_params = [p["name"] for p in op["parameters"] if p["in"] == "path"]
        assert path_params == [path[1 : path.index("}")]], (op_id, path, path_params)
    concrete = c.operations(c.served_document("?pk_path=1"))
    assert set(concrete) == set(c.operations(c.ours()))
    assert all(path.startswith("/pulp/api/v3/") for _, path, _ in concrete.values())


def test_component_filter():
    core_only = c.operations(c.served_document("?component=core"))
    file_only = c.operations(c.served_document("?component=file"))
    certguard_only = c.operations(c.served_document("?component=certguard"))
    assert "status_read" in core_only and "status_read" not in file_only
    assert "contentguards_certguard_x509_list" in certguard_only
    assert set(core_only) | set(file_only) | set(certguard_only) == set(c.operations(c.ours()))
    assert not set(core_only) & set(file_only)
    assert not (set(core_only) | set(file_only)) & set(certguard_only)


def test_yaml_document_matches_json():
    from django.test import Client

    response = Client().get(
        "/pulp/api/v3/docs/api.yaml", HTTP_HOST="localhost:24817", HTTP_ACCEPT="application/yaml"
    )
    assert response.status_code == 200
    assert yaml.safe_load(response.content) == c.served_document()


# --- pulp-glue -----------------------------------------------------------------------------------
def test_pulp_glue_parses_document():
    """pulp-glue 0.41.1's strict models accept the document and find our operations by id."""
    from pulp_glue.common import oas
    from pulp_glue.common.context import _patch_api_hook

    raw = _patch_api_hook(json.loads(json.dumps(c.ours())))
    spec = oas.OpenAPISpec.model_validate(raw)
    found = spec.operations
    assert set(found) == set(c.operations(c.ours()))
    assert found["status_read"][1] == "/pulp/api/v3/status/"


@pytest.mark.parametrize("app", ["core", "file"])
def test_pulp_glue_version_gate(app):
    """pulp-glue requires core >= 3.49.0; plugins are looked up by label."""
    from packaging.version import Version

    assert Version(c.ours()["info"]["x-pulp-app-versions"][app]) >= Version("3.49.0")


def test_bindings_variant_uses_bare_action_names():
    ids = [op_id for op_id in c.operations_with_duplicates(c.served_document("?bindings=1"))]
    assert "status_read" in ids
    assert "list" in ids and "read" in ids
    assert not any(i.startswith("artifacts_") for i in ids)


def test_pk_path_variant_matches_contract_routes():
    """``?pk_path`` gives the concrete routes with typed parameters, as OPERATIONS.md lists."""
    routes = c.operations_md_routes()
    concrete = c.operations(c.served_document("?pk_path=1"))
    problems = []
    for op_id, (method, path, op) in sorted(concrete.items()):
        if op_id not in routes:
            continue  # reported by test_operation_matches_contract
        expected_method, expected_route, expected_params = routes[op_id]
        if (method, path) != (expected_method, expected_route):
            problems.append(
                f"{op_id}: ours {method} {path}, contract {expected_method} {expected_route}"
            )
            continue
        types = sorted(
            f"{p['name']}:{p['schema'].get('format') or p['schema'].get('type')}"
            for p in op["parameters"]
            if p["in"] == "path"
        )
        wanted = (
            sorted(expected_params.split(" ⇒ ")[1].split(", ")) if "⇒" in expected_params else []
        )
        if types != wanted:
            problems.append(f"{op_id}: path params ours {types}, contract {wanted}")
    assert not problems, "\n".join(problems)


def test_generation_emits_no_warnings():
    """drf-spectacular warnings mean a guessed type, a name collision or an unresolved field."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from pulpcore.app.openapi import PulpSchemaGenerator

    for query in ("", "?pk_path=1"):
        request = Request(APIRequestFactory().get(f"/pulp/api/v3/docs/api.json{query}"))
        PulpSchemaGenerator().get_schema(request=request, public=True)
        problems = {**GENERATOR_STATS._warn_cache, **GENERATOR_STATS._error_cache}
        assert not problems, "\n".join(problems)
