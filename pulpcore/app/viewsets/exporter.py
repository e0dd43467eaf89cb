"""``exporters/core/pulp/`` and ``exporters/core/filesystem/`` with their ``exports/``.

Creating an exporter is immediate (201, its path checked against ALLOWED_EXPORT_PATHS); updates
and deletions are tasks so they never happen in the middle of an export. Exports are created by
an export task and deleted directly; deleting an export or an exporter leaves the files on disk.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from pulpcore.app.models import (
    FilesystemExport,
    FilesystemExporter,
    PulpExport,
    PulpExporter,
)
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.exporter import (
    FilesystemExporterSerializer,
    FilesystemExportSerializer,
    PulpExporterSerializer,
    PulpExportSerializer,
)
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.filters.exchange import (
    ExporterFilter,
    FilesystemExporterFilter,
    PulpExporterFilter,
)
from pulpcore.app.viewsets.mixins import (
    AsyncRemoveMixin,
    AsyncUpdateMixin,
    OperationPostponedResponse,
)
from pulpcore.tasking.dispatch import dispatch


class ExporterViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    AsyncUpdateMixin,
    AsyncRemoveMixin,
    NamedModelViewSet,
):
    """Base of the exporter endpoints (``exporters/<app>/<type>/``)."""

    endpoint_name = "exporters"
    filterset_class = ExporterFilter

    def get_queryset(self):
        return super().get_queryset().order_by("-pulp_created")


class PulpExporterViewSet(ExporterViewSet):
    endpoint_name = "pulp"
    queryset = PulpExporter.objects.all()
    serializer_class = PulpExporterSerializer
    filterset_class = PulpExporterFilter

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("last_export__exporter")
            .prefetch_related("repositories")
        )


class FilesystemExporterViewSet(ExporterViewSet):
    endpoint_name = "filesystem"
    queryset = FilesystemExporter.objects.all()
    serializer_class = FilesystemExporterSerializer
    filterset_class = FilesystemExporterFilter


class ExportViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, NamedModelViewSet
):
    """Base of ``exports/``: read, list, delete (204; the files stay)."""

    endpoint_name = "exports"
    parent_lookup_kwargs = {"exporter_pk": "exporter__pk"}
    filterset_class = None
    task_name: str = ""

    def get_queryset(self):
        return super().get_queryset().select_related("task", "exporter").order_by("-pulp_created")

    def get_exporter(self):
        from django.http import Http404

        from pulpcore.app import util

        pk = self.kwargs["exporter_pk"]
        model = self.parent_viewset.queryset.model
        if not util.is_uuid(pk):
            raise Http404
        try:
            return model.objects.get(pk=pk)
        except model.DoesNotExist:
            raise Http404

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "exporter_pk" in getattr(self, "kwargs", {}):
            context["exporter"] = self.get_exporter()
        return context

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def create(self, request, *args, **kwargs):
        exporter = self.get_exporter()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kwargs, shared = self.task_arguments(exporter, serializer.validated_data)
        task = dispatch(
            self.task_name,
            exclusive_resources=[exporter],
            shared_resources=shared,
            kwargs={"exporter_pk": str(exporter.pk), **kwargs},
        )
        return OperationPostponedResponse(task, request)


class PulpExportViewSet(ExportViewSet):
    endpoint_name = "exports"
    parent_viewset = PulpExporterViewSet
    queryset = PulpExport.objects.all()
    serializer_class = PulpExportSerializer
    task_name = "pulpcore.app.tasks.export.pulp_export"

    def task_arguments(self, exporter, data):
        versions = data.get("versions") or []
        start = data.get("start_versions") or []
        repositories = [r.cast() for r in exporter.repositories.all()]
        kwargs = {
            "full": data.get("full", True),
            "dry_run": data.get("dry_run", False),
            "chunk_size": data.get("chunk_size"),
            "versions": [str(v.pk) for v in versions],
            "start_versions": [str(v.pk) for v in start],
            "params": {key: value for key, value in self.request.data.items() if key in PARAM_KEYS},
        }
        return kwargs, repositories


PARAM_KEYS = ("full", "dry_run", "versions", "chunk_size", "start_versions")


class FilesystemExportViewSet(ExportViewSet):
    endpoint_name = "exports"
    parent_viewset = FilesystemExporterViewSet
    queryset = FilesystemExport.objects.all()
    serializer_class = FilesystemExportSerializer
    task_name = "pulpcore.app.tasks.export.filesystem_export"

    def task_arguments(self, exporter, data):
        publication = data.get("publication")
        version = data.get("repository_version")
        start = data.get("start_repository_version")
        repository = (version or publication.repository_version).repository.cast()
        kwargs = {
            "publication_pk": str(publication.pk) if publication else None,
            "repository_version_pk": str(version.pk) if version else None,
            "start_repository_version_pk": str(start.pk) if start else None,
            "params": {
                key: value
                for key, value in self.request.data.items()
                if key in ("publication", "repository_version", "start_repository_version")
            },
        }
        return kwargs, [repository]
