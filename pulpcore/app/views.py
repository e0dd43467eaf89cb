"""Non-model views: the API root, ``status/`` and the API documentation."""

import threading
from collections import OrderedDict

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularSwaggerView,
    SpectacularYAMLAPIView,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from pulpcore.app.serializers.status import StatusSerializer
from pulpcore.app.status import collect_status


def _selected(request, name: str) -> set[str]:
    values = request.query_params.getlist(name)
    return {part.strip() for v in values for part in v.split(",") if part.strip()}


@extend_schema(exclude=True)  # Pulp's OpenAPI document has no operation for the root either
class ApiRootView(APIView):
    """``GET {API_ROOT}api/v3/``: every top-level endpoint with its URL, as Pulp's browsable root.

    JSON for JSON clients, the browsable page for browsers (the renderers in settings decide).
    """

    def get(self, request):
        from pulpcore.app.viewsets.base import REGISTRY

        prefixes = sorted(
            viewset.url_prefix()
            for viewset in REGISTRY
            if viewset.parent_viewset is None and hasattr(viewset, "list")
        )
        base = request.build_absolute_uri(request.path)
        return Response({prefix: f"{base}{prefix}/" for prefix in prefixes})


class StatusView(APIView):
    """Health of the installation: versions, database, Redis, storage, online processes."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="status_read", responses=StatusSerializer)
    def get(self, request):
        body = collect_status()
        include, exclude = _selected(request, "fields"), _selected(request, "exclude_fields")
        if include or exclude:
            body = {
                key: value
                for key, value in body.items()
                if (not include or key in include) and key not in exclude
            }
        return Response(body)


class _CachedSchemaMixin:
    """Build the document once per (server URL, query) per process: views never change at runtime.

    Generating ~250 operations costs about a second, and every ``pulp`` command starts by
    fetching ``api.json`` unless it has a cached copy.
    """

    _documents: "OrderedDict[tuple, dict]" = OrderedDict()
    # Only these query parameters change the document; others must not grow the cache.
    _variant_params = ("bindings", "component", "lang", "pk_path")
    _max_documents = 16
    _lock = threading.Lock()

    def _get_schema_response(self, request):
        key = (
            request.build_absolute_uri("/"),
            tuple((k, tuple(request.query_params.getlist(k))) for k in self._variant_params),
        )
        with self._lock:
            document = self._documents.get(key)
            if document is not None:
                self._documents.move_to_end(key)
        if document is None:
            version = self.api_version or request.version or self._get_version_parameter(request)
            generator = self.generator_class(
                urlconf=self.urlconf, api_version=version, patterns=self.patterns
            )
            document = generator.get_schema(request=request, public=self.serve_public)
            with self._lock:
                self._documents[key] = document
                while len(self._documents) > self._max_documents:
                    self._documents.popitem(last=False)
        return Response(document)


# The document is a free-form object (a bare ``{"type": "object"}``, as Pulp documents it).
_document_schema = extend_schema_view(get=extend_schema(responses={200: {"type": "object"}}))


@_document_schema
class PulpSchemaJSONView(_CachedSchemaMixin, SpectacularJSONAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]


@_document_schema
class PulpSchemaYAMLView(_CachedSchemaMixin, SpectacularYAMLAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class PulpDocsView(SpectacularSwaggerView):
    authentication_classes = []
    permission_classes = [AllowAny]
    url_name = "schema-json"


root_urls = [path("", ApiRootView.as_view(), name="api-root")]
status_urls = [path("status/", StatusView.as_view(), name="status")]
api_docs_urls = [
    path("docs/api.json", PulpSchemaJSONView.as_view(), name="schema-json"),
    path("docs/api.yaml", PulpSchemaYAMLView.as_view(), name="schema-yaml"),
    path("docs/", PulpDocsView.as_view(), name="schema-docs"),
]
