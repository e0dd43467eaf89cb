"""Viewset mixins that turn create/update/delete into tasks answering 202 ``{"task": href}``.

Use them for objects other tasks read while running (repositories, remotes, distributions), so a
change never happens in the middle of a sync or publish: the task reserves the object.
"""

from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from pulpcore.app import util
from pulpcore.app.serializers.base import AsyncOperationResponseSerializer


class OperationPostponedResponse(Response):
    """202 with ``{"task": href}`` of the task that will do the work.

    The one way an endpoint answers "accepted, a task does it": every viewset that dispatches
    returns this (``request`` is accepted for plugins written against Pulp's plugin API).
    """

    def __init__(self, task, request=None):
        super().__init__({"task": util.get_url(task)}, status=status.HTTP_202_ACCEPTED)


class TaskGroupOperationResponse(Response):
    """202 with ``{"task_group": href}``: work split into several tasks that a group follows."""

    def __init__(self, task_group, request=None):
        super().__init__({"task_group": util.get_url(task_group)}, status=status.HTTP_202_ACCEPTED)


def jsonable_data(data) -> dict:
    """Request data as plain JSON (form/multipart bodies become dicts of strings or lists)."""
    if isinstance(data, QueryDict):
        out = {}
        for key, values in data.lists():
            out[key] = values if len(values) > 1 else values[0]
        return out
    return dict(data)


def _serializer_ref(serializer) -> tuple[str, str]:
    """(app_label, serializer name) that ``general_*`` tasks use to find the serializer again."""
    cls = type(serializer)
    app_label = cls.Meta.model._meta.app_label
    return app_label, f"{cls.__module__}.{cls.__qualname__}"


class AsyncCreateMixin:
    """POST → 202: validate now, create in a task reserving ``create_exclusive_resources``.

    ``create_exclusive_resources`` defaults to the list endpoint, so creations of one type (which
    may clash on unique fields such as a distribution's base_path) run one after another.
    """

    create_exclusive_resources: list[str] | None = None

    def get_create_exclusive_resources(self, serializer) -> list[str]:
        if self.create_exclusive_resources is not None:
            return list(self.create_exclusive_resources)
        return [f"{util.api_root()}{self.url_prefix()}/"]

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def create(self, request, *args, **kwargs):
        from pulpcore.tasking.dispatch import dispatch

        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        app_label, name = _serializer_ref(serializer)
        task = dispatch(
            "pulpcore.app.tasks.base.general_create",
            args=[app_label, name],
            kwargs={"data": jsonable_data(request.data)},
            exclusive_resources=self.get_create_exclusive_resources(serializer),
        )
        return OperationPostponedResponse(task, request)


class AsyncUpdateMixin:
    """PUT/PATCH → 202: validate now, update in a task reserving the object."""

    def async_reserved_resources(self, instance) -> list:
        return [instance]

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def update(self, request, *args, **kwargs):
        from pulpcore.tasking.dispatch import dispatch

        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        app_label, name = _serializer_ref(serializer)
        task = dispatch(
            "pulpcore.app.tasks.base.general_update",
            args=[str(instance.pk), app_label, name],
            kwargs={"data": jsonable_data(request.data), "partial": partial},
            exclusive_resources=self.async_reserved_resources(instance),
        )
        return OperationPostponedResponse(task, request)

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)


class AsyncRemoveMixin:
    """DELETE → 202: delete in a task reserving the object."""

    def async_reserved_resources(self, instance) -> list:
        return [instance]

    @extend_schema(responses={202: AsyncOperationResponseSerializer})
    def destroy(self, request, *args, **kwargs):
        from pulpcore.tasking.dispatch import dispatch

        instance = self.get_object()
        serializer = self.get_serializer(instance)
        app_label, name = _serializer_ref(serializer)
        task = dispatch(
            "pulpcore.app.tasks.base.general_delete",
            args=[str(instance.pk), app_label, name],
            exclusive_resources=self.async_reserved_resources(instance),
        )
        return OperationPostponedResponse(task, request)
