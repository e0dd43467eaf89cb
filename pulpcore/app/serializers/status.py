"""Serializers that document (and shape) the ``status/`` body as ``StatusResponse``.

``status/`` is assembled from plain dicts by :func:`pulpcore.app.status.collect_status`; these
serializers give the OpenAPI document Pulp's component names and field flags
(``VersionResponse``, ``StorageResponse``, ...). ``online_workers`` reuses the workers
endpoint's ``WorkerResponse`` component, so both always agree.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 0})
class _ByteCountField(serializers.IntegerField):
    """A non-negative 64-bit byte count (disk sizes overflow int32)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        super().__init__(**kwargs)


class _VersionsField(serializers.DictField):
    """``{"core": "3.49.0", ...}`` as reported by a process heartbeat."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(allow_null=True))
        super().__init__(**kwargs)


class VersionSerializer(serializers.Serializer):
    component = serializers.CharField()
    version = serializers.CharField()
    package = serializers.CharField()
    module = serializers.CharField()
    domain_compatible = serializers.BooleanField()


class DatabaseConnectionSerializer(serializers.Serializer):
    connected = serializers.BooleanField()


class RedisConnectionSerializer(serializers.Serializer):
    connected = serializers.BooleanField()


class StorageSerializer(serializers.Serializer):
    total = _ByteCountField(allow_null=True)
    used = _ByteCountField(allow_null=True)
    free = _ByteCountField(allow_null=True)


class ContentSettingsSerializer(serializers.Serializer):
    content_origin = serializers.CharField()
    content_path_prefix = serializers.CharField()


class ApiAppStatusSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    last_heartbeat = serializers.DateTimeField(read_only=True)
    versions = _VersionsField(read_only=True)


class ContentAppStatusSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    last_heartbeat = serializers.DateTimeField(read_only=True)
    versions = _VersionsField(read_only=True)


class OnlineWorkersField(serializers.ListField):
    """``online_workers``: a list of ``WorkerResponse`` objects."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.DictField())
        super().__init__(**kwargs)


def worker_serializer_class() -> type[serializers.Serializer]:
    """The workers endpoint's serializer (imported late: it lives beside this module)."""
    from pulpcore.app.serializers import WorkerSerializer

    return WorkerSerializer


class OnlineWorkersFieldExtension(OpenApiSerializerFieldExtension):
    target_class = OnlineWorkersField

    def map_serializer_field(self, auto_schema, direction):
        component = auto_schema.resolve_serializer(worker_serializer_class(), direction)
        return {"type": "array", "items": component.ref}


class StatusSerializer(serializers.Serializer):
    versions = VersionSerializer(many=True)
    online_workers = OnlineWorkersField()
    online_api_apps = ApiAppStatusSerializer(many=True)
    online_content_apps = ContentAppStatusSerializer(many=True)
    database_connection = DatabaseConnectionSerializer(
        help_text="Whether the API process can query the database."
    )
    redis_connection = RedisConnectionSerializer(
        required=False, help_text="Whether the API process can reach Redis."
    )
    storage = StorageSerializer(required=False, help_text="Disk usage of MEDIA_ROOT in bytes.")
    content_settings = ContentSettingsSerializer(
        help_text="Where the content app serves distributions."
    )
    domain_enabled = serializers.BooleanField()
