"""``importers/core/pulp/`` with ``imports/``, and ``importers/core/pulp/import-check/``.

Creating an import records it, opens a TaskGroup and dispatches the import task into it; that
task verifies the export completely, stores artifacts and then dispatches one child task per
repository into the same group.
"""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response
from rest_framework.views import APIView

from pulpcore.app import util
from pulpcore.app.access.policy import SuperuserOnly
from pulpcore.app.models import PulpImport, PulpImporter, TaskGroup
from pulpcore.app.serializers.base import TaskGroupOperationResponseSerializer
from pulpcore.app.serializers.importer import (
    ImportSerializer,
    PulpImportCheckResponseSerializer,
    PulpImportCheckSerializer,
    PulpImporterSerializer,
    PulpImportSerializer,
)
from pulpcore.app.viewsets.base import NamedModelViewSet
from pulpcore.app.viewsets.filters.exchange import ImporterFilter, PulpImporterFilter
from pulpcore.app.viewsets.mixins import TaskGroupOperationResponse
from pulpcore.tasking.dispatch import dispatch


class ImporterViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    NamedModelViewSet,
):
    """Base of the importer endpoints (``importers/<app>/<type>/``)."""

    endpoint_name = "importers"
    filterset_class = ImporterFilter

    def get_queryset(self):
        return super().get_queryset().order_by("-pulp_created")


class PulpImporterViewSet(ImporterViewSet):
    endpoint_name = "pulp"
    queryset = PulpImporter.objects.all()
    serializer_class = PulpImporterSerializer
    filterset_class = PulpImporterFilter


class PulpImportViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, NamedModelViewSet
):
    endpoint_name = "imports"
    parent_viewset = PulpImporterViewSet
    parent_lookup_kwargs = {"importer_pk": "importer__pk"}
    queryset = PulpImport.objects.all()
    serializer_class = ImportSerializer
    filterset_class = None

    def get_queryset(self):
        return super().get_queryset().select_related("task", "importer").order_by("-pulp_created")

    @extend_schema(
        request=PulpImportSerializer, responses={202: TaskGroupOperationResponseSerializer}
    )
    def create(self, request, *args, **kwargs):
        pk = self.kwargs["importer_pk"]
        if not util.is_uuid(pk):
            raise Http404
        importer = PulpImporter.objects.filter(pk=pk).first()
        if importer is None:
            raise Http404
        serializer = PulpImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        params = {k: data[k] for k in ("path", "toc") if data.get(k)}
        params["create_repositories"] = data["create_repositories"]
        with transaction.atomic():
            group = TaskGroup.objects.create(
                description=f"Import of {params.get('path') or params.get('toc')}"
            )
            the_import = PulpImport.objects.create(
                importer=importer, params=params, task_group=group
            )
            task = dispatch(
                "pulpcore.app.tasks.importer.pulp_import",
                exclusive_resources=[importer],
                kwargs={"import_pk": str(the_import.pk)},
                task_group=group,
            )
            the_import.task = task
            the_import.save(update_fields=["task"])
        return TaskGroupOperationResponse(group, request)


class PulpImportCheckView(APIView):
    """Check import paths and a repo_mapping synchronously, before starting an import.

    It tells whether paths exist on the server's disk, so only superusers may ask.
    """

    permission_classes = [SuperuserOnly]

    @extend_schema(
        operation_id="pulp_import_check_post",
        request=PulpImportCheckSerializer,
        responses={200: PulpImportCheckResponseSerializer},
    )
    def post(self, request):
        serializer = PulpImportCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.evaluate())
