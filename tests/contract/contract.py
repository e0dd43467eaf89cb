"""Compare our OpenAPI document with the Pulp 3.49 contract, operation by operation.

Used by ``test_contract.py`` and runnable as a report over everything implemented so far::

    PULP_TEST_PREFIX=h1 python -m tests.contract.contract            # every mismatch
    PULP_TEST_PREFIX=h1 python -m tests.contract.contract --pending  # print the pending list

Differences that depend on library versions, not on Pulp (README of the contract), are ignored:
the hash suffix of the remote ``policy`` enum, the redacted ``RemoteResponsePolicyEnum`` values,
and the date-dependent ``Purge.finished_before`` default. ``pulp_type`` enums list the types
installed here, so the contract's values for types still pending (``PENDING_TYPES``) are dropped.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# The contract lives in the repository (a clone stands alone); ``make contract-refresh`` copies
# it from ``../shared/api-contract/``. PULP_API_CONTRACT points at another copy to compare with.
CONTRACT_PATH = Path(
    os.environ.get("PULP_API_CONTRACT", Path(__file__).with_name("pulp-api-3.49.json"))
)
PENDING_PATH = Path(__file__).with_name("pending_operations.txt")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
REF_PREFIX = "#/components/schemas/"

# Contract enum component names that stand for ours (library-dependent naming, see module doc).
ENUM_ALIASES = {"Policy762Enum": "Policy692Enum", "RemoteResponsePolicyEnum": "Policy692Enum"}
# (component, property, keyword) ignored when comparing component schemas.
IGNORED_KEYWORDS = {("Purge", "finished_before", "default")}
# Components whose own body is not comparable (redacted in the contract).
IGNORED_COMPONENTS = {"RemoteResponsePolicyEnum"}
# Detail types the contract's ``pulp_type`` / ``pulp_type__in`` enums list that are not installed
# here yet. Our enums list what is installed, as Pulp's do, so these values are dropped from the
# contract's enums before comparing. Like pending_operations.txt this set may only shrink: when a
# type gets installed, its enum value appears in our document and must be removed here.
PENDING_TYPES = frozenset(
    {
        "core.publishedmetadata",
        "core.rbac",
    }
)
TYPE_PARAMETERS = ("query:pulp_type", "query:pulp_type__in")


@lru_cache(maxsize=1)
def contract() -> dict:
    """The contract document (fails loudly if the file is missing)."""
    return json.loads(CONTRACT_PATH.read_text())


def served_document(query: str = "", host: str = "localhost:24817") -> dict:
    """Our ``docs/api.json`` as the API serves it, generated in-process (no server needed)."""
    from django.test import Client

    response = Client().get(
        f"/pulp/api/v3/docs/api.json{query}", HTTP_HOST=host, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200, response.content[:2000]
    return json.loads(response.content)


_PROSE_KEYS = {"description", "summary"}


def structure_only(node: Any, in_properties: bool = False, key: str = "") -> Any:
    """The document without our prose (summaries, descriptions), which the contract lacks.

    Names of properties (``Repository.description`` is a field) and the required empty
    ``responses.*.description`` stay.
    """
    if isinstance(node, dict):
        out = {}
        for k, value in node.items():
            if k in _PROSE_KEYS and not in_properties and not (k == "description" and key == "r"):
                continue
            child_key = "r" if key == "responses" else k
            out[k] = structure_only(
                value, in_properties=(k == "properties" and not in_properties), key=child_key
            )
        return out
    if isinstance(node, list):
        return [structure_only(item) for item in node]
    return node


@lru_cache(maxsize=1)
def ours() -> dict:
    """Our document as the contract compares it: structure only (see structure_only)."""
    return structure_only(served_document())


def operations(document: dict) -> dict[str, tuple[str, str, dict]]:
    """operationId → (METHOD, path key, operation)."""
    result: dict[str, tuple[str, str, dict]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                op_id = operation.get("operationId", f"<no operationId: {method} {path}>")
                if op_id in result:
                    raise AssertionError(f"operationId {op_id} is used twice")
                result[op_id] = (method.upper(), path, operation)
    return result


def operations_with_duplicates(document: dict) -> list[str]:
    """Every operationId in document order (the bindings variant repeats bare names)."""
    return [
        operation.get("operationId", "")
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in METHODS
    ]


def pending_ids() -> list[str]:
    """operationIds listed in ``pending_operations.txt`` (comments and blanks dropped)."""
    lines = PENDING_PATH.read_text().splitlines() if PENDING_PATH.exists() else []
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def operations_md_routes() -> dict[str, tuple[str, str, str]]:
    """operationId → (METHOD, concrete route, path params) from the contract's OPERATIONS.md."""
    rows = {}
    for line in CONTRACT_PATH.with_name("OPERATIONS.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) >= 5 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[3].strip("`"), cells[4])
    return rows


# --- normalisation -------------------------------------------------------------------------------
def _ref_name(ref: str) -> str:
    name = ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else ref
    return ENUM_ALIASES.get(name, name)


def normalize(schema: Any) -> Any:
    """A schema with ``$ref`` names aliased; order of ``required`` ignored."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "$ref":
                out[key] = _ref_name(value)
            elif key == "required" and isinstance(value, list):
                out[key] = sorted(value)
            else:
                out[key] = normalize(value)
        return out
    if isinstance(schema, list):
        return [normalize(item) for item in schema]
    return schema


def _fmt(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _param_key(param: dict) -> str:
    return f"{param.get('in')}:{param.get('name')}"


def _param_view(param: dict) -> dict:
    return {
        "required": bool(param.get("required", False)),
        "schema": normalize(param.get("schema")),
        "style": param.get("style"),
        "explode": param.get("explode"),
    }


def without_pending_types(key: str, view: dict) -> dict:
    """The contract's view of a ``pulp_type`` parameter, less the types still pending."""
    if key not in TYPE_PARAMETERS or not isinstance(view.get("schema"), dict):
        return view
    schema = json.loads(json.dumps(view["schema"]))
    holder = schema.get("items", schema) if schema.get("type") == "array" else schema
    if "enum" in holder:
        holder["enum"] = [v for v in holder["enum"] if v not in PENDING_TYPES]
        if not holder["enum"]:
            del holder["enum"]
    return {**view, "schema": schema}


def _content_view(content: dict | None) -> dict:
    return {ctype: normalize(body.get("schema")) for ctype, body in (content or {}).items()}


# --- operation comparison ------------------------------------------------------------------------
def compare_operation(op_id: str, mine: tuple, theirs: tuple) -> list[str]:
    """Human-readable differences of one operation (empty when it matches)."""
    m_method, m_path, m_op = mine
    t_method, t_path, t_op = theirs
    diffs: list[str] = []
    if (m_method, m_path) != (t_method, t_path):
        diffs.append(f"route: ours {m_method} {m_path!r}, contract {t_method} {t_path!r}")

    m_params = {_param_key(p): _param_view(p) for p in m_op.get("parameters", [])}
    t_params = {
        _param_key(p): without_pending_types(_param_key(p), _param_view(p))
        for p in t_op.get("parameters", [])
    }
    for key in sorted(set(t_params) - set(m_params)):
        diffs.append(f"parameter {key}: missing (contract {_fmt(t_params[key])})")
    for key in sorted(set(m_params) - set(t_params)):
        diffs.append(f"parameter {key}: not in contract (ours {_fmt(m_params[key])})")
    for key in sorted(set(m_params) & set(t_params)):
        for aspect in ("required", "schema", "style", "explode"):
            if m_params[key][aspect] != t_params[key][aspect]:
                diffs.append(
                    f"parameter {key} {aspect}: ours {_fmt(m_params[key][aspect])}, "
                    f"contract {_fmt(t_params[key][aspect])}"
                )

    m_body, t_body = m_op.get("requestBody"), t_op.get("requestBody")
    if bool(m_body) != bool(t_body):
        diffs.append(
            f"requestBody: ours {_fmt(_content_view((m_body or {}).get('content')))}, "
            f"contract {_fmt(_content_view((t_body or {}).get('content')))}"
        )
    elif m_body:
        m_content, t_content = (
            _content_view(m_body.get("content")),
            _content_view(t_body.get("content")),
        )
        if sorted(m_content) != sorted(t_content):
            diffs.append(
                f"requestBody content types: ours {sorted(m_content)}, contract {sorted(t_content)}"
            )
        for ctype in sorted(set(m_content) & set(t_content)):
            if m_content[ctype] != t_content[ctype]:
                diffs.append(
                    f"requestBody {ctype} schema: ours {_fmt(m_content[ctype])}, "
                    f"contract {_fmt(t_content[ctype])}"
                )
        if bool(m_body.get("required")) != bool(t_body.get("required")):
            diffs.append(
                f"requestBody required: ours {bool(m_body.get('required'))}, "
                f"contract {bool(t_body.get('required'))}"
            )

    m_resp, t_resp = m_op.get("responses", {}), t_op.get("responses", {})
    if sorted(m_resp) != sorted(t_resp):
        diffs.append(f"response codes: ours {sorted(m_resp)}, contract {sorted(t_resp)}")
    for code in sorted(set(m_resp) & set(t_resp)):
        m_content = _content_view(m_resp[code].get("content"))
        t_content = _content_view(t_resp[code].get("content"))
        if m_content != t_content:
            diffs.append(f"response {code}: ours {_fmt(m_content)}, contract {_fmt(t_content)}")
        if m_resp[code].get("description") != "":
            diffs.append(f'response {code}: description must be ""')

    for key in ("tags", "security"):
        if m_op.get(key) != t_op.get(key):
            diffs.append(f"{key}: ours {_fmt(m_op.get(key))}, contract {_fmt(t_op.get(key))}")
    extra = set(m_op) - {
        "operationId",
        "parameters",
        "requestBody",
        "responses",
        "tags",
        "security",
    }
    if extra:
        diffs.append(f"unexpected operation keys: {sorted(extra)}")
    return diffs


# Hints for differences that have a usual cause in a serializer/filter definition.
HINTS = [
    (
        "minLength: ours 1, contract null",
        "drop an explicit min_length=1: allow_blank=False (the default) already documents "
        "minLength 1 on request components only",
    ),
    (
        '"format": "uuid"',
        "a filter on a related object is documented with the related primary key's type "
        '(decorate the filter class with @extend_schema_field({"type": "string", '
        '"format": "uuid"}) or use a ModelChoiceFilter)',
    ),
    ("not a contract operation", "compare the operationId rules in pulpcore/app/openapi.py"),
]


def hints_for(diffs: list[str]) -> list[str]:
    return sorted({hint for pattern, hint in HINTS if any(pattern in d for d in diffs)})


def format_operation_diff(op_id: str, mine: tuple, diffs: list[str]) -> str:
    head = f"{op_id} ({mine[0]} {mine[1]}) differs from the contract:"
    lines = [head, *(f"  - {d}" for d in diffs)]
    lines += [f"  hint: {h}" for h in hints_for(diffs)]
    return "\n".join(lines)


def format_component_diff(name: str, users: set[str], diffs: list[str]) -> str:
    used_by = ", ".join(sorted(users)[:3]) + (" ..." if len(users) > 3 else "")
    lines = [f"component {name} (used by {used_by}) differs:", *(f"  - {d}" for d in diffs)]
    lines += [f"  hint: {h}" for h in hints_for(diffs)]
    return "\n".join(lines)


# --- component comparison ------------------------------------------------------------------------
def refs_in(node: Any) -> set[str]:
    """Component names referenced anywhere below ``node``."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                found.add(value[len(REF_PREFIX) :])
            else:
                found |= refs_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= refs_in(item)
    return found


def reachable_components(document: dict) -> dict[str, set[str]]:
    """Component name → operationIds that (transitively) use it."""
    schemas = document.get("components", {}).get("schemas", {})
    users: dict[str, set[str]] = {}
    for op_id, (_, _, op) in operations(document).items():
        todo, seen = list(refs_in(op)), set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            users.setdefault(name, set()).add(op_id)
            todo.extend(refs_in(schemas.get(name, {})))
    return users


def compare_component(name: str, mine: dict, theirs: dict) -> list[str]:
    """Differences of one component schema: properties, required, per-property keywords."""
    if name in IGNORED_COMPONENTS:
        return []
    mine, theirs = normalize(mine), normalize(theirs)
    diffs: list[str] = []
    m_props, t_props = mine.get("properties", {}), theirs.get("properties", {})
    for prop in sorted(set(t_props) - set(m_props)):
        diffs.append(f"property {prop}: missing (contract {_fmt(t_props[prop])})")
    for prop in sorted(set(m_props) - set(t_props)):
        diffs.append(f"property {prop}: not in contract (ours {_fmt(m_props[prop])})")
    for prop in sorted(set(m_props) & set(t_props)):
        m_p, t_p = m_props[prop], t_props[prop]
        for key in sorted(set(m_p) | set(t_p)):
            if (name, prop, key) in IGNORED_KEYWORDS:
                continue
            if m_p.get(key) != t_p.get(key):
                diffs.append(
                    f"property {prop} {key}: ours {_fmt(m_p.get(key))}, "
                    f"contract {_fmt(t_p.get(key))}"
                )
    if mine.get("required", []) != theirs.get("required", []):
        diffs.append(
            f"required: ours {mine.get('required', [])}, contract {theirs.get('required', [])}"
        )
    rest_m = {k: v for k, v in mine.items() if k not in ("properties", "required")}
    rest_t = {k: v for k, v in theirs.items() if k not in ("properties", "required")}
    for key in sorted(set(rest_m) | set(rest_t)):
        if rest_m.get(key) != rest_t.get(key):
            diffs.append(f"{key}: ours {_fmt(rest_m.get(key))}, contract {_fmt(rest_t.get(key))}")
    return diffs


# --- report --------------------------------------------------------------------------------------
def full_report(document: dict) -> tuple[list[str], list[str]]:
    """(operation reports, component reports) for every mismatch in ``document``."""
    theirs_ops = operations(contract())
    mine_ops = operations(document)
    op_reports = []
    for op_id in sorted(mine_ops):
        if op_id not in theirs_ops:
            method, path, _ = mine_ops[op_id]
            op_reports.append(f"{op_id} ({method} {path}): not in contract")
            continue
        diffs = compare_operation(op_id, mine_ops[op_id], theirs_ops[op_id])
        if diffs:
            op_reports.append(format_operation_diff(op_id, mine_ops[op_id], diffs))
    comp_reports = []
    mine_schemas = document.get("components", {}).get("schemas", {})
    theirs_schemas = contract()["components"]["schemas"]
    for name, users in sorted(reachable_components(document).items()):
        used_by = ", ".join(sorted(users)[:3]) + (" ..." if len(users) > 3 else "")
        if name not in theirs_schemas:
            comp_reports.append(f"component {name} (used by {used_by}): not in contract")
            continue
        diffs = compare_component(name, mine_schemas.get(name, {}), theirs_schemas[name])
        if diffs:
            comp_reports.append(format_component_diff(name, users, diffs))
    return op_reports, comp_reports


def missing_operations(document: dict) -> list[str]:
    return sorted(set(operations(contract())) - set(operations(document)))


PENDING_HEADER = """\
# Contract operations (pulp-api-3.49.json) that our API does not implement yet.
# This list may only shrink: when you implement an operation, delete its line here
# (tests/contract fails while an implemented operation is still listed). Never add lines
# except when re-syncing from the contract. One operationId per line, sorted.
"""


def write_pending(document: dict) -> int:
    missing = missing_operations(document)
    PENDING_PATH.write_text(PENDING_HEADER + "".join(f"{op}\n" for op in missing))
    return len(missing)


def main(argv: list[str]) -> int:
    import sys

    sys.path.insert(0, str(REPO))
    import tests.testenv  # noqa: F401

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pulpcore.app.settings")
    import django

    django.setup()
    document = ours()
    if "--write-pending" in argv:
        print(f"{write_pending(document)} pending operations written to {PENDING_PATH}")
        return 0
    if "--pending" in argv:
        print("\n".join(missing_operations(document)))
        return 0
    op_reports, comp_reports = full_report(document)
    print("\n\n".join(op_reports + comp_reports) or "no differences")
    print(
        f"\n{len(operations(document))} operations served, {len(op_reports)} differ; "
        f"{len(comp_reports)} components differ; "
        f"{len(missing_operations(document))} contract operations missing"
    )
    return 1 if op_reports or comp_reports else 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
