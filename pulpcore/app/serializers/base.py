"""Serializer building blocks: hrefs as identity and relations, field selection, integer bounds."""

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models
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


def pks_from_hrefs(values: list, model) -> list[str]:
    """The primary keys a list of hrefs names, or one 400 listing every href that names nothing
    of ``model`` (so a bad list is refused whole and the user sees all its faults at once)."""
    pks, errors = [], []
    for href in values:
        if not isinstance(href, str):
            errors.append(f"{href!r} is not an href.")
            continue
        try:
            pks.append(str(util.resolve_href(href, model).pk))
        except util.HrefError as exc:
            errors.append(str(exc))
    if errors:
        raise serializers.ValidationError(errors)
    return pks


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


class ColumnRange:
    """Validator: the integer fits the model field's database column (``integer``, ``bigint``...).

    Deliberately not a Django ``MaxValueValidator``: the schema generator would publish those as
    ``maximum``/``minimum``, and Pulp's OpenAPI document has no such bounds for these fields.
    """

    def __init__(self, low: int | None, high: int | None):
        self.low, self.high = low, high

    def __call__(self, value) -> None:
        if not isinstance(value, int):
            return
        if self.high is not None and value > self.high:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {self.high}."
            )
        if self.low is not None and value < self.low:
            raise serializers.ValidationError(
                f"Ensure this value is greater than or equal to {self.low}."
            )


def _column_range(model, source: str) -> tuple[int | None, int | None] | None:
    """(low, high) the database accepts for ``model.<source>``, None when not an integer column."""
    if not source or "." in source or source == "*":
        return None
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return None
    if not isinstance(model_field, models.IntegerField):  # Small/Big/Positive* included
        return None
    return connection.ops.integer_field_range(model_field.get_internal_type())


def bound_integer_fields(model, fields: dict) -> dict:
    """Give every writable integer field the range of the column it is stored in.

    Declared fields (``serializers.IntegerField(...)`` on a serializer) do not inherit the model
    field's validators, so an out-of-range value used to reach PostgreSQL and fail there (a 500,
    or a failed task when saved later). Checking here covers plugins' serializers too.
    """
    for name, field in fields.items():
        if not isinstance(field, serializers.IntegerField) or field.read_only:
            continue
        bounds = _column_range(model, field.source or name)  # fields are not bound yet
        if bounds is None:
            continue
        low, high = bounds
        if field.max_value is not None and high is not None and field.max_value <= high:
            high = None
        if field.min_value is not None and low is not None and field.min_value >= low:
            low = None
        if low is not None or high is not None:
            field.validators.append(ColumnRange(low, high))
    return fields


class ModelSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    """Base for every Pulp object serializer: href plus creation/update timestamps."""

    pulp_href = IdentityField()
    pulp_created = serializers.DateTimeField(read_only=True)
    pulp_last_updated = serializers.DateTimeField(read_only=True)

    class Meta:
        fields = ("pulp_href", "pulp_created", "pulp_last_updated")

    def get_fields(self) -> dict:
        return bound_integer_fields(self.Meta.model, super().get_fields())


class LabelsField(serializers.DictField):
    """``pulp_labels``: a string → string (or null) mapping.

    Values are CharFields (which refuse NUL characters); keys are checked here, because
    PostgreSQL cannot store a NUL in ``jsonb`` and would answer the insert with an error.
    """

    default_error_messages = {"null_key": "Label keys cannot contain NUL (\\x00) characters."}

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(allow_null=True, allow_blank=True))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        labels = super().to_internal_value(data)
        if any("\x00" in key for key in labels):
            self.fail("null_key")
        return labels


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
