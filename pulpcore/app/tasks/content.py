"""Task half of content creation: build the unit from a validated payload, maybe add it to a
repository in a new version."""

from django.db import transaction
from django.utils.module_loading import import_string

from pulpcore.app import util
from pulpcore.app.models import Upload
from pulpcore.tasking.context import record_created


def readable(errors) -> str:
    """``{"field": ["msg"]}`` as ``field: msg; ...`` for a task's error description."""
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {readable(value)}" for key, value in errors.items())
    if isinstance(errors, list):
        return " ".join(readable(e) for e in errors)
    return str(errors)


def general_content_create(serializer_name: str, data: dict, upload_pk: str | None = None) -> None:
    """Create (or find the identical existing) unit; with ``repository`` in ``data``, add it
    to a new version of that repository."""
    from pulpcore.app.serializers.content import artifact_from_upload

    serializer_class = import_string(serializer_name)
    data = dict(data)
    if upload_pk:
        upload = Upload.objects.get(pk=upload_pk)
        data["artifact"] = util.get_url(artifact_from_upload(upload))
    serializer = serializer_class(data=data, context={})
    if not serializer.is_valid():
        # The state changed since the request was accepted (e.g. the repository was deleted).
        raise ValueError(f"The content can no longer be created: {readable(serializer.errors)}")
    with transaction.atomic():
        content = serializer.save()
    record_created(content)
    repository = serializer.validated_data.get("repository")
    if repository is not None:
        with repository.cast().new_version() as version:
            version.add_content(type(content).objects.filter(pk=content.pk))
