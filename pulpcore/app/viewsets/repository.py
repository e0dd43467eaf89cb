"""Repositories, repository versions and remotes: the bases plugins subclass, and generic lists.

Plugin base classes here set ``endpoint_name`` but no ``queryset``, so they name the URL segment
(``repositories/<plugin>/<type>/``) without registering a route themselves; the generic
list-only viewsets register ``repositories/``, ``repository_versions/`` and ``remotes/``.
"""

from django.db import transaction
from django.db.models import OuterRef, Subquery
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from pulpcore.app.access import defaults as access_defaults
from pulpcore.app.models import Remote, Repository, RepositoryVersion
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer
from pulpcore.app.serializers.repository import (
    RemoteSerializer,
    RepairSerializer,
    RepositoryAddRemoveContentSerializer,
    RepositorySerializer,
    RepositoryVersionSerializer,
    SetLabelSerializer,
    UnsetLabelSerializer,
)
from pulpcore.app.viewsets.base import ListOnlyViewSet, NamedModelViewSet
from pulpcore.app.viewsets.filters.repository import (
    GenericRemoteFilter,
    GenericRepositoryFilter,
    RemoteFilter,
    RepositoryFilter,
    RepositoryVersionFilter,
)
from pulpcore.app.viewsets.mixins import (
    AsyncRemoveMixin,
    AsyncUpdateMixin,
    OperationPostponedResponse,
)
from pulpcore.tasking.dispatch import dispatch


def with_latest_number(qs):
    """Repositories annotated with their latest complete version number (one query a page)."""
    latest = (
        RepositoryVersion.objects.filter(repository=OuterRef("pk"), complete=True)
        .order_by("-number")
        .values("number")[:1]
    )
    return qs.select_related("remote").annotate(latest_number=Subquery(latest))


class LabelsMixin:
    """``set_label/`` and ``unset_label/`` on objects with ``pulp_labels``.

    ``label_status`` is the success code (the contract has 201 for repositories and remotes,
    200 for distributions).
    """

    label_status = status.HTTP_201_CREATED

    @extend_schema(request=SetLabelSerializer, responses={201: SetLabelSerializer})
    @action(detail=True, methods=["post"], serializer_class=SetLabelSerializer)
    def set_label(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = SetLabelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, value = serializer.validated_data["key"], serializer.validated_data["value"]
        with transaction.atomic():
            locked = type(obj).objects.select_for_update().get(pk=obj.pk)
            locked.pulp_labels[key] = value
            locked.save(update_fields=["pulp_labels", "pulp_last_updated"])
        return Response({"key": key, "value": value}, status=self.label_status)

    @extend_schema(request=UnsetLabelSerializer, responses={201: UnsetLabelSerializer})
    @action(detail=True, methods=["post"], serializer_class=UnsetLabelSerializer)
    def unset_label(self, request, *args, **kwargs):
        obj = self.get_object()
        serializer = UnsetLabelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = serializer.validated_data["key"]
        with transaction.atomic():
            locked = type(obj).objects.select_for_update().get(pk=obj.pk)
            if key not in locked.pulp_labels:
                raise serializers.ValidationError({"key": [f"Label '{key}' is not set."]})
            value = locked.pulp_labels.pop(key)
            locked.save(update_fields=["pulp_labels", "pulp_last_updated"])
        return Response({"key": key, "value": value}, status=self.label_status)


# --- repositories -------------------------------------------------------------------------------
class RepositoryViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    AsyncUpdateMixin,
    AsyncRemoveMixin,
    LabelsMixin,
    NamedModelViewSet,
):
    """Base of every plugin's repository endpoint: create (201), read, async update and delete,
    ``modify/`` and labels. Plugins set ``queryset``, ``serializer_class`` and ``endpoint_name``.
    """

    endpoint_name = "repositories"
    filterset_class = RepositoryFilter

    def get_queryset(self):
        # Hidden repositories (an ACS's) belong to their owner, not to the API.
        qs = super().get_queryset().filter(user_hidden=False)
        return with_latest_number(qs).order_by("-pulp_created")

    def perform_create(self, serializer):
        with transaction.atomic():
            repository = serializer.save()
            return repository.add_initial_version()

    def async_reserved_resources(self, instance):
        return [instance]

    @extend_schema(
        request=RepositoryAddRemoveContentSerializer,
        responses={202: AsyncOperationResponseSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=RepositoryAddRemoveContentSerializer)
    def modify(self, request, *args, **kwargs):
        """Make a new version: base (or latest) minus removed plus added content."""
        repository = self.get_object()
        serializer = RepositoryAddRemoveContentSerializer(
            data=request.data, context={"request": request, "repository": repository}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task = dispatch(
            "pulpcore.app.tasks.repository.add_and_remove",
            exclusive_resources=[repository],
            kwargs={
                "repository_pk": str(repository.pk),
                "add_content_units": data["add_content_units"],
                "remove_content_units": data["remove_content_units"],
                "base_version_pk": data.get("base_version"),
            },
        )
        return OperationPostponedResponse(task, request)


class RepositoryVersionViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, NamedModelViewSet):
    """Base of every plugin's ``versions/`` endpoint: list, read, async delete, ``repair/``.

    Plugins set ``parent_viewset`` to their repository viewset and ``queryset``.
    """

    endpoint_name = "versions"
    serializer_class = RepositoryVersionSerializer
    filterset_class = RepositoryVersionFilter
    lookup_field = "number"
    parent_lookup_kwargs = {"repository_pk": "repository__pk"}

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(complete=True)
            .select_related("repository", "base_version__repository")
            .order_by("-number")
        )

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def destroy(self, request, *args, **kwargs):
        """Remove a version; its changes fold into the next one. The only version stays."""
        version = self.get_object()
        if version.repository.versions.filter(complete=True).count() <= 1:
            raise serializers.ValidationError(
                {
                    "detail": "Cannot delete repository version. Repositories must have at "
                    "least one repository version."
                }
            )
        task = dispatch(
            "pulpcore.app.tasks.repository.delete_version",
            exclusive_resources=[version.repository.cast()],
            kwargs={"repository_version_pk": str(version.pk)},
        )
        return OperationPostponedResponse(task, request)

    @extend_schema(request=RepairSerializer, responses={202: AsyncOperationResponseSerializer})
    @action(detail=True, methods=["post"], serializer_class=RepairSerializer)
    def repair(self, request, *args, **kwargs):
        """Check the version's stored files; re-download missing or corrupted ones."""
        version = self.get_object()
        serializer = RepairSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = dispatch(
            "pulpcore.app.tasks.repository.repair_version",
            shared_resources=[version.repository.cast()],
            kwargs={
                "repository_version_pk": str(version.pk),
                "verify_checksums": serializer.validated_data["verify_checksums"],
            },
        )
        return OperationPostponedResponse(task, request)


class ListRepositoryViewSet(ListOnlyViewSet):
    """``repositories/``: every repository of every type."""

    endpoint_name = "repositories"
    queryset = Repository.objects.all().order_by("-pulp_created")
    serializer_class = RepositorySerializer
    filterset_class = GenericRepositoryFilter

    def get_queryset(self):
        return with_latest_number(super().get_queryset().filter(user_hidden=False))


class ListRepositoryVersionViewSet(ListOnlyViewSet):
    """``repository_versions/``: every complete version of every repository."""

    endpoint_name = "repository_versions"
    rbac_scope = access_defaults.scope_repository_versions
    queryset = RepositoryVersion.objects.filter(complete=True).order_by("-pulp_created")
    serializer_class = RepositoryVersionSerializer
    filterset_class = RepositoryVersionFilter

    def get_queryset(self):
        return super().get_queryset().select_related("repository", "base_version__repository")


# --- remotes ------------------------------------------------------------------------------------
class RemoteViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    AsyncUpdateMixin,
    AsyncRemoveMixin,
    LabelsMixin,
    NamedModelViewSet,
):
    """Base of every plugin's remote endpoint: create (201), read, async update and delete."""

    endpoint_name = "remotes"
    filterset_class = RemoteFilter

    def get_queryset(self):
        return super().get_queryset().order_by("-pulp_created")

    def async_reserved_resources(self, instance):
        return [instance]


class ListRemoteViewSet(ListOnlyViewSet):
    """``remotes/``: every remote of every type."""

    endpoint_name = "remotes"
    queryset = Remote.objects.all().order_by("-pulp_created")
    serializer_class = RemoteSerializer
    filterset_class = GenericRemoteFilter
