"""OpenAPI generation shaped like Pulp's own document, derived from the registered views.

pulp-glue finds every call by ``operationId`` and fills href-style path keys
(``{file_file_repository_href}sync/``) with whole object hrefs, so the names below follow Pulp's
conventions exactly. Everything is computed from the viewsets, serializers and app configs:

* operationId: the route's literal path segments joined by ``_`` plus the action
  (``list``, ``read``, ``create``, ``update``, ``partial_update``, ``delete`` or the extra action
  name; plain API views use the HTTP method), e.g. ``repositories_file_file_sync``.
* path keys: routes that carry an object lookup become ``{<resource>_href}<rest>`` with a single
  string path parameter; the resource name comes from the model (``file_file_repository``) or,
  for nested routes, from the parent endpoint plus the model (``file_file_repository_version``).
* components: core serializers give ``X``/``XResponse``/``PatchedX``; serializers of plugin apps
  are prefixed with the app label (``file.FileRemote``, ``Patchedfile.FileRemote``).
* every operation takes the ``X-Task-Diagnostics`` header, every GET ``fields`` and
  ``exclude_fields``; drf-spectacular's prose (docstrings, help texts) is replaced by the
  summaries and descriptions of ``openapi_docs`` (the contract check compares structure only).

Query flags on ``docs/api.json``: ``?pk_path`` keeps concrete routes, ``?bindings`` uses bare
action names as operationIds, ``?component=core,file`` limits the document to those apps.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import (
    build_array_type,
    build_basic_type,
    follow_model_field_lookup,
)
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers, viewsets

from pulpcore.app import openapi_docs

# Private key that carries the href form of a path from AutoSchema to the generator.
_HREF_MARKER = "x-pulp-href-path"
_BINDING_MARKER = "x-pulp-binding-id"

# Viewset action → the verb Pulp uses in operationIds.
ACTION_NAMES = {
    "list": "list",
    "retrieve": "read",
    "create": "create",
    "update": "update",
    "partial_update": "partial_update",
    "destroy": "delete",
}

TASK_DIAGNOSTICS_PARAM = {
    "in": "header",
    "name": "X-Task-Diagnostics",
    "schema": {"type": "array", "items": {"type": "string"}},
}
FIELD_SELECTION_PARAMS = [
    {"in": "query", "name": name, "schema": {"type": "array", "items": {"type": "string"}}}
    for name in ("fields", "exclude_fields")
]
# Column ranges of PostgreSQL smallint/integer/bigint as Django reports them.
_DB_INT_BOUNDS = {
    -(2**15),
    2**15 - 1,
    -(2**31),
    2**31 - 1,
    -(2**63),
    2**63 - 1,
}
LOGO = {"url": "https://pulpproject.org/assets/pulp_logo_icon.svg"}


def api_prefix() -> str:
    """``/pulp/api/v3/`` under the configured API_ROOT."""
    return f"{settings.API_ROOT}api/v3/"


def pulp_app_configs() -> list:
    """Installed Pulp apps (core and plugins), in INSTALLED_APPS order."""
    from pulpcore.app.apps import PulpPluginAppConfig

    return [cfg for cfg in apps.get_app_configs() if isinstance(cfg, PulpPluginAppConfig)]


def plugin_label_for(obj: Any) -> str | None:
    """App label of the Pulp app defining ``obj``'s class, or None outside Pulp apps."""
    from pulpcore.app.apps import PulpPluginAppConfig

    cls = obj if isinstance(obj, type) else type(obj)
    cfg = apps.get_containing_app_config(cls.__module__)
    if isinstance(cfg, PulpPluginAppConfig):
        return cfg.label
    return None


def snake_model_name(name: str) -> str:
    """``FileRepository`` → ``file_repository``; every capital starts a word (``r_b_a_c_...``)."""
    return re.sub(r"([A-Z])", r"_\1", name).lower().lstrip("_")


def resource_name(viewset: type) -> str:
    """The ``<name>`` of ``{<name>_href}`` for the objects a viewset serves.

    Plain: the model name, prefixed with its app label unless that is ``core``
    (``artifact``, ``file_file_repository``, ``auth_user``). Nested: the parent's endpoint name
    (prefixed with the parent model's non-core app label) plus the model name
    (``file_file_repository_version``, ``groups_group_role``).
    """
    model = viewset.queryset.model
    name = snake_model_name(model.__name__)
    parent = getattr(viewset, "parent_viewset", None)
    if parent is not None:
        parent_app = parent.queryset.model._meta.app_label
        prefix = parent.endpoint_name
        if parent_app != "core":
            prefix = f"{parent_app}_{prefix}"
        return f"{prefix}_{name}"
    app_label = model._meta.app_label
    return name if app_label == "core" else f"{app_label}_{name}"


def path_tokens(path: str) -> list[str]:
    """Literal segments of a route below the API prefix (variables dropped)."""
    prefix = api_prefix()
    if path.startswith(prefix):
        path = path[len(prefix) :]
    return [part for part in path.strip("/").split("/") if part and not part.startswith("{")]


def tag_for(tokens: list[str], labels: set[str] | None = None) -> str | None:
    """Pulp's tag: ``repositories/file/file/versions`` → ``Repositories: File Versions``.

    The app-label segment of master/detail routes is dropped; the first segment heads the tag.
    """
    if labels is None:
        labels = {cfg.label for cfg in pulp_app_configs()}
    if len(tokens) >= 3 and tokens[1] in labels:
        tokens = [tokens[0], *tokens[2:]]
    if not tokens:
        return None
    head, rest = tokens[0].title(), " ".join(t.title() for t in tokens[1:])
    return f"{head}: {rest}" if rest else head


class PulpAutoSchema(AutoSchema):
    """Per-operation rules: operationIds, tags, href path keys, Pulp's component names."""

    # --- names -----------------------------------------------------------------------------------
    def _action_name(self) -> str:
        action = getattr(self.view, "action", None)
        if isinstance(self.view, viewsets.ViewSetMixin) and action:
            return ACTION_NAMES.get(action, action)
        return self.method.lower()

    def _endpoint_tokens(self) -> list[str]:
        """Literal route segments without an extra action's own URL segment."""
        tokens = path_tokens(self.path)
        action = getattr(self.view, "action", None)
        url_path = getattr(getattr(self.view, action, None), "url_path", None) if action else None
        if url_path:
            segments = [part for part in url_path.strip("/").split("/") if part]
            if segments and tokens[-len(segments) :] == segments:
                tokens = tokens[: -len(segments)]
        return tokens

    def _derived_operation_id(self) -> str:
        # ``tasks/purge/`` (extra action ``purge``) → ``tasks_purge``, not ``tasks_purge_purge``.
        tokens = [t.replace("-", "_") for t in self._endpoint_tokens()]
        return "_".join([*tokens, self._action_name()])

    def get_operation_id(self) -> str:
        return self._derived_operation_id()

    def get_tags(self) -> list[str]:
        tag = tag_for(self._endpoint_tokens())
        return [tag] if tag else []

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        # drf-spectacular marks split request components with a suffix; Pulp's are bare.
        if direction == "request" and name.endswith("Request"):
            name = name[: -len("Request")]
        patched = ""
        if name.startswith("Patched"):
            patched, name = "Patched", name[len("Patched") :]
        target = getattr(serializer, "child", serializer)
        label = plugin_label_for(target)
        if label and label != "core":
            name = f"{label}.{name}"
        name = patched + name
        if direction == "response" and not name.endswith("Response"):
            name += "Response"
        return name

    # --- fields --------------------------------------------------------------------------------
    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        for name, prop in schema.get("properties", {}).items():
            field = serializer.fields.get(name)
            if isinstance(field, serializers.IntegerField) and prop.get("type") == "integer":
                _int64(prop)
            help_text = getattr(field, "help_text", None)
            if help_text:
                prop[openapi_docs.HELP_MARKER] = str(help_text)
        return schema

    def _resolve_path_parameters(self, variables):
        params = super()._resolve_path_parameters(variables)
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        for param in params:
            schema = param.get("schema", {})
            if model is None or schema.get("pattern") != "^[^/]+$":
                continue
            # Our routes match any segment; document the model field's type as Pulp does
            # (``number`` → int64, ``repository_pk`` → uuid) for the ``?pk_path`` variant.
            name = param["name"]
            if name in (self.view.lookup_field, getattr(self.view, "lookup_url_kwarg", None)):
                name = self.view.lookup_field
            elif name.endswith("_pk"):
                name = f"{name[:-3]}_id"
            try:
                field = follow_model_field_lookup(model, name)
            except FieldError:
                continue
            resolved = self._map_model_field(field, direction=None)
            if resolved.get("type") == "integer":
                _int64(resolved)
            resolved.pop("description", None)
            param["schema"] = resolved
        return params

    # --- security --------------------------------------------------------------------------------
    def get_auth(self) -> list[dict]:
        auths = [a for a in super().get_auth() if a]
        return sorted(auths, key=lambda a: sorted(a))

    # --- paths -----------------------------------------------------------------------------------
    def _href_path(self) -> tuple[str, dict] | None:
        """The ``{<name>_href}...`` key and its parameter when the route names an object."""
        variables = re.findall(r"\{(\w+)\}", self.path)
        viewset = type(self.view)
        if not variables or getattr(viewset, "queryset", None) is None:
            return None
        last = variables[-1]
        owner = viewset
        if last in (getattr(viewset, "parent_lookup_kwargs", None) or {}):
            # A nested list/create route: the last variable names the parent object.
            owner = viewset.parent_viewset
        # Otherwise it is the object's own lookup (``{pk}`` shows up coerced to ``{pulp_id}``).
        end = self.path.index("{" + last + "}") + len(last) + 2
        rest = self.path[end:].lstrip("/")
        name = f"{resource_name(owner)}_href"
        param = {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        return "{" + name + "}" + rest, param

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        params = [p for p in operation.get("parameters", []) if p.get("name") != "format"]
        if not any(p["in"] == "header" and p["name"] == "X-Task-Diagnostics" for p in params):
            params.insert(0, dict(TASK_DIAGNOSTICS_PARAM))
        if self.method == "GET":
            present = {(p["in"], p["name"]) for p in params}
            params += [
                dict(p) for p in FIELD_SELECTION_PARAMS if ("query", p["name"]) not in present
            ]
        operation["parameters"] = _ordered_parameters(params)
        if "requestBody" in operation:
            # Pulp marks every request body required, partial updates included.
            operation["requestBody"]["required"] = True
        href = self._href_path()
        if href is not None:
            operation[_HREF_MARKER] = href
        operation["x-pulp-app-label"] = plugin_label_for(self.view) or "core"
        self._stash_prose(operation)
        # ``?bindings``: the bare action, unless the operationId was set explicitly.
        derived = operation["operationId"] == self._derived_operation_id()
        operation[_BINDING_MARKER] = self._action_name() if derived else operation["operationId"]
        return operation

    def _stash_prose(self, operation: dict) -> None:
        """Our own summary/description texts, kept apart until docstring prose is removed."""
        noun = openapi_docs.noun_for_view(self.view)
        if noun is None:
            noun = " ".join(self._endpoint_tokens()[-1:]).replace("-", " ") or None
        is_task = "202" in operation.get("responses", {})
        summary, description = openapi_docs.operation_text(
            self._action_name(), self.method, noun, is_task
        )
        operation[openapi_docs.SUMMARY_MARKER] = summary
        operation[openapi_docs.DESCRIPTION_MARKER] = description
        operation[openapi_docs.NOUN_MARKER] = noun
        for param in operation.get("parameters", []):
            param[openapi_docs.DESCRIPTION_MARKER] = openapi_docs.parameter_text(param, noun)


def _ordered_parameters(params: list[dict]) -> list[dict]:
    """Parameters by name (as drf-spectacular sorts them), field selection last (as Pulp)."""
    selection = {p["name"] for p in FIELD_SELECTION_PARAMS}
    tail = [p for p in params if p["in"] == "query" and p["name"] in selection]
    rest = [p for p in params if p not in tail]
    tail.sort(key=lambda p: p["name"] != "fields")
    return sorted(rest, key=lambda p: p["name"]) + tail


def _int64(prop: dict) -> None:
    """Pulp documents every integer field as int64 without the database column's range.

    ModelSerializer copies a column's range into min/max validators (``0..2147483647`` for a
    positive integer); those bounds are storage details, explicit limits (``minimum: 1``) stay.
    """
    prop["format"] = "int64"
    if prop.get("maximum") in _DB_INT_BOUNDS:
        del prop["maximum"]
        if prop.get("minimum") == 0:
            del prop["minimum"]
    if prop.get("minimum") in _DB_INT_BOUNDS:
        del prop["minimum"]


class PulpSchemaGenerator(SchemaGenerator):
    """Document-level rules: href path keys, info, servers, prose removal, query flags."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Routes carry no version segment; every view serves "v3" (URLPathVersioning would
        # otherwise make drf-spectacular skip all of them).
        self.api_version = self.api_version or "v3"

    def _flags(self, request) -> dict:
        query = getattr(request, "query_params", None) or getattr(request, "GET", {}) or {}
        components = query.get("component") if query else None
        return {
            "pk_path": bool(query) and "pk_path" in query,
            "bindings": bool(query) and "bindings" in query,
            "components": {c.strip() for c in components.split(",") if c.strip()}
            if components
            else None,
        }

    def parse(self, input_request, public):
        flags = self._flags(input_request)
        result: dict[str, dict] = {}
        for path, methods in super().parse(input_request, public).items():
            for method, operation in methods.items():
                href = operation.pop(_HREF_MARKER, None)
                app_label = operation.pop("x-pulp-app-label", "core")
                if flags["components"] is not None and app_label not in flags["components"]:
                    continue
                key = path
                if href is not None and not flags["pk_path"]:
                    key, param = href
                    params = [p for p in operation["parameters"] if p["in"] != "path"]
                    operation["parameters"] = _ordered_parameters([*params, param])
                result.setdefault(key, {})[method] = operation
        return result

    def get_schema(self, request=None, public=False):
        schema = super().get_schema(request=request, public=public)
        info = {
            "title": spectacular_settings.TITLE,
            "version": spectacular_settings.VERSION,
            "x-logo": LOGO,
            "x-pulp-app-versions": {cfg.label: cfg.version for cfg in pulp_app_configs()},
            "x-pulp-domain-enabled": bool(settings.DOMAIN_ENABLED),
        }
        schema["info"] = info
        if request is not None:
            schema["servers"] = [{"url": request.build_absolute_uri("/")}]
        else:
            schema["servers"] = [{"url": "http://localhost:24817/"}]
        schema.pop("security", None)
        bindings = self._flags(request)["bindings"]
        for methods in schema["paths"].values():
            for operation in methods.values():
                binding = operation.pop(_BINDING_MARKER, None)
                if bindings and binding:
                    # Bare names repeat across endpoints, as in Pulp's bindings variant.
                    operation["operationId"] = binding
        schema["paths"] = strip_prose(schema["paths"])
        schema["components"] = strip_prose(schema.get("components", {}))
        # Our own words replace the developers' docstrings (pulpcore/app/openapi_docs.py).
        info["description"] = openapi_docs.INFO_DESCRIPTION
        openapi_docs.apply_markers(schema["paths"])
        openapi_docs.describe_components(schema["components"])
        for methods in schema["paths"].values():
            for operation in methods.values():
                for response in operation.get("responses", {}).values():
                    response["description"] = ""
        return schema


_PROSE_KEYS = {"description", "summary", "example", "examples", "title"}


def strip_prose(node: Any, in_properties: bool = False) -> Any:
    """Remove human-written text; keys of a ``properties`` map are field names and stay."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if not in_properties and key in _PROSE_KEYS:
                continue
            out[key] = strip_prose(value, in_properties=(key == "properties" and not in_properties))
        return out
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    return node


# --- field extensions: hrefs are URIs ------------------------------------------------------------
class IdentityFieldExtension(OpenApiSerializerFieldExtension):
    """``pulp_href``: a read-only URI string."""

    target_class = "pulpcore.app.serializers.base.IdentityField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.URI)


class RelatedFieldExtension(OpenApiSerializerFieldExtension):
    """A relation written and read as an href."""

    target_class = "pulpcore.app.serializers.base.RelatedField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.URI)


class HrefListFieldExtension(OpenApiSerializerFieldExtension):
    """A list of hrefs."""

    target_class = "pulpcore.app.serializers.base.HrefListField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        return build_array_type(build_basic_type(OpenApiTypes.URI))


class BasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """Pulp's (cached) HTTP basic authentication."""

    target_class = "rest_framework.authentication.BasicAuthentication"
    match_subclasses = True
    name = "basicAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic"}


class _OperationResponseExtension(OpenApiSerializerExtension):
    """202 bodies: ``{"task": href}`` / ``{"task_group": href}``, the href documented as a URI."""

    key = "task"

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "properties": {self.key: build_basic_type(OpenApiTypes.URI)},
            "required": [self.key],
        }


class AsyncOperationResponseExtension(_OperationResponseExtension):
    target_class = "pulpcore.app.serializers.base.AsyncOperationResponseSerializer"
    key = "task"


class TaskGroupOperationResponseExtension(_OperationResponseExtension):
    target_class = "pulpcore.app.serializers.base.TaskGroupOperationResponseSerializer"
    key = "task_group"
