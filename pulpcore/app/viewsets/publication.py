"""Publications, distributions and content guards: plugin bases and generic lists."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action

from pulpcore.app.models import Distribution, Publication
from pulpcore.app.serializers.publication import (
    DistributionSerializer,
    PublicationSerializer,
)
from pulpcore.app.serializers.repository import SetLabelSerializer, UnsetLabelSerializer
from pulpcore.app.viewsets.base import ListOnlyViewSet, NamedModelViewSet
from pulpcore.app.viewsets.contentguard import (  # noqa: F401 - re-exported
    ContentGuardViewSet,
    ListContentGuardViewSet,
)
from pulpcore.app.viewsets.filters.publication import (
    DistributionFilter,
    GenericDistributionFilter,
    GenericPublicationFilter,
    PublicationFilter,
)
from pulpcore.app.viewsets.mixins import (
    AsyncCreateMixin,
    AsyncRemoveMixin,
    AsyncUpdateMixin,
    OperationPostponedResponse,
)
from pulpcore.app.viewsets.repository import LabelsMixin
from pulpcore.tasking.dispatch import dispatch


class PublicationViewSet(
    mixins.RetrieveModelMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, NamedModelViewSet
):
    """Base of every plugin's publication endpoint: read, list, delete (204).

    Plugins add ``create`` and call :meth:`dispatch_publish` with their task body.
    """

    endpoint_name = "publications"
    filterset_class = PublicationFilter

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(complete=True)
            .select_related("repository_version__repository")
            .prefetch_related("distribution_set")
            .order_by("-pulp_created")
        )

    def dispatch_publish(self, func, version, **kwargs):
        """Queue ``func(repository_version_pk=..., **kwargs)``; 202 with the task."""
        task = dispatch(
            func,
            shared_resources=[version.repository.cast()],
            kwargs={"repository_version_pk": str(version.pk), **kwargs},
        )
        return OperationPostponedResponse(task, self.request)


class ListPublicationViewSet(ListOnlyViewSet):
    """``publications/``: every complete publication of every type."""

    endpoint_name = "publications"
    queryset = Publication.objects.filter(complete=True).order_by("-pulp_created")
    serializer_class = PublicationSerializer
    filterset_class = GenericPublicationFilter

    def get_queryset(self):
        return super().get_queryset().select_related("repository_version__repository")


class DistributionViewSet(
    AsyncCreateMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    AsyncUpdateMixin,
    AsyncRemoveMixin,
    LabelsMixin,
    NamedModelViewSet,
):
    """Base of every plugin's distribution endpoint: async create/update/delete, labels.

    Creations and updates of every distribution type reserve ``distributions/`` so two requests
    can never both claim overlapping base paths.
    """

    endpoint_name = "distributions"
    filterset_class = DistributionFilter
    label_status = status.HTTP_200_OK

    def get_create_exclusive_resources(self, serializer) -> list[str]:
        from pulpcore.app import util

        return [f"{util.api_root()}distributions/"]

    def async_reserved_resources(self, instance) -> list:
        from pulpcore.app import util

        return [instance, f"{util.api_root()}distributions/"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("publication", "repository", "content_guard")
            .order_by("-pulp_created")
        )

    @extend_schema(request=SetLabelSerializer, responses={200: SetLabelSerializer})
    @action(detail=True, methods=["post"], serializer_class=SetLabelSerializer)
    def set_label(self, request, *args, **kwargs):
        return LabelsMixin.set_label(self, request, *args, **kwargs)

    @extend_schema(request=UnsetLabelSerializer, responses={200: UnsetLabelSerializer})
    @action(detail=True, methods=["post"], serializer_class=UnsetLabelSerializer)
    def unset_label(self, request, *args, **kwargs):
        return LabelsMixin.unset_label(self, request, *args, **kwargs)


class ListDistributionViewSet(ListOnlyViewSet):
    """``distributions/``: every distribution of every type."""

    endpoint_name = "distributions"
    queryset = Distribution.objects.all().order_by("-pulp_created")
    serializer_class = DistributionSerializer
    filterset_class = GenericDistributionFilter

    def get_queryset(self):
        return super().get_queryset().select_related("repository", "content_guard")
