"""Generic task bodies behind the asynchronous create/update/delete endpoints.

The view validates the request first (so bad input is a 400 and nothing is dispatched); the task
validates again against the state at run time, then writes inside one transaction, so a failure
leaves nothing half-written.
"""

from django.apps import apps
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.module_loading import import_string

from pulpcore.app.models import MasterModel
from pulpcore.tasking.context import record_created


def get_serializer_class(app_label: str, serializer_name: str):
    """Find a serializer by name in an app's ``serializers`` module (or by dotted path)."""
    if "." in serializer_name:
        return import_string(serializer_name)
    module = f"{apps.get_app_config(app_label).name}.serializers"
    try:
        return import_string(f"{module}.{serializer_name}")
    except ImportError:
        raise LookupError(f"No serializer {serializer_name} in {module}.")


def _instance(serializer_class, instance_pk):
    model = serializer_class.Meta.model
    obj = model.objects.select_for_update().get(pk=instance_pk)
    return obj.cast() if isinstance(obj, MasterModel) else obj


def general_create(app_label: str, serializer_name: str, data: dict) -> None:
    """Create an object through its serializer and record it as created by this task."""
    serializer_class = get_serializer_class(app_label, serializer_name)
    with transaction.atomic():
        serializer = serializer_class(data=data, context={})
        serializer.is_valid(raise_exception=True)
        instance = serializer.save()
        record_created(instance)


def general_update(
    instance_pk, app_label: str, serializer_name: str, data: dict, partial: bool = False
) -> None:
    """Update an object through its serializer (PUT, or PATCH when ``partial``)."""
    serializer_class = get_serializer_class(app_label, serializer_name)
    with transaction.atomic():
        instance = _instance(serializer_class, instance_pk)
        serializer = serializer_class(instance, data=data, partial=partial, context={})
        serializer.is_valid(raise_exception=True)
        serializer.save()


def general_delete(instance_pk, app_label: str, serializer_name: str) -> None:
    """Delete an object (and, for a detail model, its master row).

    An object others still depend on (a remote an ACS names) is kept, and the failure names them.
    """
    serializer_class = get_serializer_class(app_label, serializer_name)
    with transaction.atomic():
        instance = _instance(serializer_class, instance_pk)
        try:
            instance.delete()
        except ProtectedError as exc:
            users = sorted({str(o) for o in exc.protected_objects})
            raise ValueError(
                f"{instance} cannot be deleted while {', '.join(users[:10])} use it; "
                "delete or change them first."
            ) from exc
