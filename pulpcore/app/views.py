"""Non-model views: ``status/`` and the API documentation."""

from django.urls import path
from drf_spectacular.views import (
    SpectacularJSONAPIView,
    SpectacularSwaggerView,
    SpectacularYAMLAPIView,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from pulpcore.app.status import collect_status


class StatusView(APIView):
    """Health of the installation: versions, database, Redis, storage, online processes."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(collect_status())


class PulpSchemaJSONView(SpectacularJSONAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class PulpSchemaYAMLView(SpectacularYAMLAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class PulpDocsView(SpectacularSwaggerView):
    authentication_classes = []
    permission_classes = [AllowAny]
    url_name = "schema-json"


status_urls = [path("status/", StatusView.as_view(), name="status")]
api_docs_urls = [
    path("docs/api.json", PulpSchemaJSONView.as_view(), name="schema-json"),
    path("docs/api.yaml", PulpSchemaYAMLView.as_view(), name="schema-yaml"),
    path("docs/", PulpDocsView.as_view(), name="schema-docs"),
]
