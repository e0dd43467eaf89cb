"""Serializer building blocks: hrefs as identity and relations, field selection."""

from django.db import models
from rest_framework import serializers

from pulpcore.app import util


class IdentityField(serializers.Field):
    """``pulp_href``: the object's own path, read-only."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return util.get_url(value)


class RelatedField(serializers.Field):
    """A relation written and read as an href, checked to point at one of ``types``.

    ``types`` is a model class or tuple of them (a master model accepts every detail type).
    """

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, types=None, **kwargs):
        self.types = types
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:
        if value is None:
            return None
        return util.get_url(value)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data:
            self.fail("invalid", message="Expected an href string.")
        try:
            return util.resolve_href(data, self.types)
        except util.HrefError as exc:
            self.fail("invalid", message=str(exc))


class HrefListField(serializers.ListField):
    """A read-only list of hrefs of related objects."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("child", serializers.CharField())
        super().__init__(**kwargs)

    def to_representation(self, data) -> list[str]:
        items = data.all() if isinstance(data, models.Manager | models.QuerySet) else data
        return [util.get_url(item) for item in items]


class FieldSelectionMixin:
    """Honours ``?fields=a,b`` and ``?exclude_fields=c`` on the outermost serializer."""

    def _is_outermost(self) -> bool:
        parent = self.parent
        if isinstance(parent, serializers.ListSerializer):
            parent = parent.parent
        return parent is None

    def _requested(self, name: str) -> set[str]:
        request = self.context.get("request")
        if request is None or not self._is_outermost():
            return set()
        values = request.query_params.getlist(name)
        return {part.strip() for v in values for part in v.split(",") if part.strip()}

    @property
    def _readable_fields(self):
        # A list serializer represents every row with one child instance: select fields once.
        selected = self.__dict__.get("_selected_readable_fields")
        if selected is None:
            include = self._requested("fields")
            exclude = self._requested("exclude_fields")
            selected = [
                field
                for field in super()._readable_fields
                if (not include or field.field_name in include) and field.field_name not in exclude
            ]
            self.__dict__["_selected_readable_fields"] = selected
        return selected


class ModelSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    """Base for every Pulp object serializer: href plus creation/update timestamps."""

    pulp_href = IdentityField()
    pulp_created = serializers.DateTimeField(read_only=True)
    pulp_last_updated = serializers.DateTimeField(read_only=True)

    class Meta:
        fields = ("pulp_href", "pulp_created", "pulp_last_updated")


class LabelsField(serializers.DictField):
    """``pulp_labels``: a string → string (or null) mapping."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(allow_null=True, allow_blank=True))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class AsyncOperationResponseSerializer(serializers.Serializer):
    """The 202 body of an operation that dispatched a task: ``{"task": href}``."""

    task = serializers.CharField()

    class Meta:
        ref_name = "AsyncOperationResponse"


class TaskGroupOperationResponseSerializer(serializers.Serializer):
    """The 202 body of an operation that dispatched a task group: ``{"task_group": href}``."""

    task_group = serializers.CharField()

    class Meta:
        ref_name = "TaskGroupOperationResponse"
