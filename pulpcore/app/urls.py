"""URL configuration: every registered viewset under ``{API_ROOT}api/v3/``, plus the API root,
docs and status."""

from django.conf import settings
from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from pulpcore.app.views import api_docs_urls, root_urls, status_urls
from pulpcore.app.viewsets.admin import ReclaimSpaceView, RepairView
from pulpcore.app.viewsets.base import REGISTRY
from pulpcore.app.viewsets.importer import PulpImportCheckView
from pulpcore.app.viewsets.orphans import OrphansView


class PulpRouter(SimpleRouter):
    """SimpleRouter with trailing slashes and UUID-ish lookups."""

    include_format_suffixes = False


def build_router() -> SimpleRouter:
    router = PulpRouter(trailing_slash=True)
    # Longer prefixes first so nested and detail routes never shadow each other.
    for viewset in sorted(REGISTRY, key=lambda v: -len(v.url_prefix())):
        router.register(
            viewset.url_prefix(), viewset, basename=viewset.url_prefix().replace("/", "-")
        )
    return router


API_PREFIX = f"{settings.API_ROOT.lstrip('/')}api/v3/"

urlpatterns = [
    re_path(rf"^{API_PREFIX}", include(root_urls)),
    re_path(rf"^{API_PREFIX}", include(status_urls)),
    re_path(rf"^{API_PREFIX}", include(api_docs_urls)),
    path(f"{API_PREFIX}importers/core/pulp/import-check/", PulpImportCheckView.as_view()),
    path(f"{API_PREFIX}orphans/", OrphansView.as_view(), name="orphans"),
    path(f"{API_PREFIX}repair/", RepairView.as_view(), name="repair"),
    path(f"{API_PREFIX}repositories/reclaim_space/", ReclaimSpaceView.as_view(), name="reclaim"),
    re_path(rf"^{API_PREFIX}", include(build_router().urls)),
    path(f"{settings.API_ROOT.lstrip('/')}api/v3/login/", include("rest_framework.urls")),
]
