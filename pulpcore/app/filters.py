"""The filtering toolkit every list uses: the strict backend, ``BaseFilterSet`` and filter types.

Filtersets themselves live one module per domain in :mod:`pulpcore.app.viewsets.filters` and
declare plain lookups in ``Meta.fields`` (``{"name": ["exact", "in", ...]}``), NetBox-style.
``BaseFilterSet`` turns those lookups into the filter classes below, so a ``__regex`` lookup always
validates its pattern, a ``__ne`` lookup always excludes, and every date lookup rejects a time-zone
offset the database cannot store. Only filters that carry real logic are declared by hand.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta

import django_filters
from django import forms
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django_filters.filters import QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from rest_framework.exceptions import ValidationError

from pulpcore.app import util

# Query parameters every list accepts besides its filters.
ALWAYS_ALLOWED = {"limit", "offset", "fields", "exclude_fields", "format", "minimal"}

# The lookups Pulp offers on names (``NAME_FILTER_OPTIONS`` in the plugin API).
NAME_FILTER_OPTIONS = [
    "exact",
    "iexact",
    "in",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "regex",
    "iregex",
]
NUMBER_LOOKUPS = ["exact", "gt", "gte", "lt", "lte", "range"]
DATETIME_LOOKUPS = ["exact", "gt", "gte", "lt", "lte", "range"]

# PostgreSQL stores offsets up to 15:59; anything larger is malformed input, not a server error.
MAX_UTC_OFFSET = timedelta(hours=16)


class StrictFilterBackend(DjangoFilterBackend):
    """Rejects query parameters the view does not declare, then applies the filterset."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) == "list":
            filterset_class = self.get_filterset_class(view, queryset)
            declared = set(filterset_class.base_filters) if filterset_class else set()
            unknown = sorted(set(request.query_params) - declared - ALWAYS_ALLOWED)
            if unknown:
                raise ValidationError(
                    {"detail": f"Invalid Filter: {', '.join(repr(u) for u in unknown)}"}
                )
        return super().filter_queryset(request, queryset, view)


# --- hrefs ---------------------------------------------------------------------------------------
def href_pk(href: str, model: type) -> object:
    """Primary key named by ``href``, which must point at ``model`` or a master/detail relative.

    Hrefs that carry the primary key are read without a query; versions (addressed by number
    below their repository) need one.
    """
    from django.urls import Resolver404, resolve

    try:
        match = resolve(util.href_path(href))
    except Resolver404:
        raise util.HrefError(f"URI {href} not found.")
    view_cls = getattr(match.func, "cls", None)
    view_model = getattr(getattr(view_cls, "queryset", None), "model", None)
    if view_model is None:
        raise util.HrefError(f"URI {href} is not an object href.")
    if not (issubclass(view_model, model) or issubclass(model, view_model)):
        raise util.HrefError(f"URI {href} is not a {model.__name__}.")
    url_kwarg = view_cls.lookup_url_kwarg or view_cls.lookup_field
    if view_cls.parent_lookup_kwargs or view_cls.lookup_field not in ("pk", "pulp_id"):
        return util.resolve_href(href).pk
    pk = match.kwargs.get(url_kwarg)
    if pk is None or not util.is_uuid(pk):
        raise util.HrefError(f"URI {href} not found.")
    return pk


def resolve_or_400(href: str, expected, field: str):
    """Resolve ``href`` to its object or answer 400 naming the query parameter."""
    try:
        return util.resolve_href(href, expected)
    except util.HrefError as exc:
        raise ValidationError({field: [str(exc)]})


def existing_pks(values: Iterable[str], model: type[models.Model], field: str) -> list:
    """Primary keys of the objects named by hrefs or bare UUIDs, checked in one query.

    A bare UUID that names nothing simply matches nothing; an href that names nothing is a 400,
    as it is when the same href is given to a create or update.
    """
    pks, by_href = [], {}
    for raw in values:
        item = str(raw).strip()
        if not item:
            continue
        if util.is_uuid(item):
            pks.append(uuid.UUID(item))
            continue
        try:
            pk = href_pk(item, model)
        except util.HrefError as exc:
            raise ValidationError({field: [str(exc)]})
        by_href[str(pk)] = item
        pks.append(uuid.UUID(str(pk)))
    if by_href:
        found = {
            str(pk)
            for pk in model.objects.filter(pk__in=list(by_href)).values_list("pk", flat=True)
        }
        missing = [href for pk, href in by_href.items() if pk not in found]
        if missing:
            raise ValidationError({field: [f"URI {missing[0]} not found."]})
    return pks


class HrefOrIdFilter(django_filters.CharFilter):
    """A related object given as its href, a bare UUID, or ``null`` (no related object).

    ``model`` is the related model hrefs must point at; ``uuid_schema`` documents the parameter as
    a UUID, as Pulp does for most relations.
    """

    def __init__(self, *args, model: type[models.Model] | None = None, uuid_schema=True, **kw):
        self.href_model = model
        super().__init__(*args, **kw)
        if uuid_schema:
            set_override(self, "field", OpenApiTypes.UUID)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value == "null":
            qs = qs.filter(**{f"{self.field_name}__isnull": True})
            return qs.distinct() if self.distinct else qs
        if self.href_model is None:
            # e.g. created resources: an object of any type, named by href or UUID
            pk = value if util.is_uuid(value) else resolve_or_400(value, None, self.field_name).pk
        else:
            (pk,) = existing_pks([value], self.href_model, self.field_name)
        return super().filter(qs, pk)


class HrefOrIdInFilter(django_filters.BaseInFilter, HrefOrIdFilter):
    """Comma-separated hrefs or UUIDs: objects related to any of them."""

    def filter(self, qs, value):
        if not value:
            return qs
        pks = existing_pks(value, self.href_model, self.field_name)
        return qs.filter(**{f"{self.field_name}__in": pks})


class HrefInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``pulp_href__in``: a comma-separated list of hrefs of the listed type.

    Hrefs that carry the primary key are matched without a query per href; an href of an
    unrelated type, or one that names nothing, is a 400.
    """

    def filter(self, qs, value):
        if not value:
            return qs
        pks = []
        for href in value:
            try:
                pks.append(href_pk(href, qs.model))
            except util.HrefError as exc:
                raise ValidationError({"pulp_href__in": [str(exc)]})
        return qs.filter(pk__in=pks)


# --- value types ---------------------------------------------------------------------------------
class UUIDInFilter(django_filters.BaseInFilter, django_filters.UUIDFilter):
    """Comma-separated UUIDs."""


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of strings."""


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """A comma-separated list of allowed values."""


class NumberInRangeFilter(django_filters.BaseRangeFilter, django_filters.NumberFilter):
    """``a,b``: both ends included."""


class PulpDateTimeField(django_filters.fields.IsoDateTimeField):
    """ISO 8601 date-time whose UTC offset the database can store (less than 16 hours)."""

    def to_python(self, value):
        parsed = super().to_python(value)
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is not None and abs(offset) >= MAX_UTC_OFFSET:
            raise forms.ValidationError(
                f"{value!r} has a UTC offset of 16 hours or more; use an offset between "
                "-15:59 and +15:59 (or Z)."
            )
        return parsed


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """Date-time lookups (``pulp_created__gte=...``), offsets checked by ``PulpDateTimeField``."""

    field_class = PulpDateTimeField


class DateTimeRangeFilter(django_filters.BaseRangeFilter, IsoDateTimeFilter):
    """``field__range=START,END``."""


class RegexFilter(django_filters.CharFilter):
    """``__regex`` / ``__iregex``: a malformed pattern is a 400, not a database error."""

    def filter(self, qs, value):
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValidationError({f"{self.field_name}__{self.lookup_expr}": [str(exc)]})
        return super().filter(qs, value)


class StrictBooleanField(forms.CharField):
    """true/false (or 1/0); anything else is a validation error, not silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(f"{value!r} is not a boolean (use true or false).")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class LabelSelectFilter(django_filters.CharFilter):
    """``pulp_label_select``: comma-separated ``key=value``, ``key!=value``, ``key~part``, ``key``,
    ``!key`` terms, all of which must hold."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        for raw in value.split(","):
            term = raw.strip()
            if not term:
                raise ValidationError({"pulp_label_select": ["Empty label selector term."]})
            if "!=" in term:
                key, val = (p.strip() for p in term.split("!=", 1))
                qs = qs.filter(pulp_labels__has_key=key).exclude(pulp_labels__contains={key: val})
            elif "=" in term:
                key, val = (p.strip() for p in term.split("=", 1))
                qs = qs.filter(pulp_labels__contains={key: val})
            elif "~" in term:
                key, val = (p.strip() for p in term.split("~", 1))
                qs = qs.filter(**{f"pulp_labels__{key}__icontains": val})
            elif term.startswith("!"):
                qs = qs.exclude(pulp_labels__has_key=term[1:].strip())
            else:
                qs = qs.filter(pulp_labels__has_key=term)
        return qs


# --- orphans -------------------------------------------------------------------------------------
def orphan_minutes(value, field: str = "orphaned_for") -> float:
    """``value`` as a number of minutes an orphan has been left alone.

    ``-1`` means the configured ``ORPHAN_PROTECTION_TIME``; a negative number, NaN or a span
    reaching further back than dates go is a 400.
    """
    minutes = float(value)
    if minutes == -1:
        minutes = float(settings.ORPHAN_PROTECTION_TIME)
    if minutes != minutes or minutes < 0:
        raise ValidationError({field: ["Must be a number of minutes >= 0, or -1."]})
    try:
        timezone.now() - timedelta(minutes=minutes)
    except OverflowError:
        raise ValidationError({field: [f"{value} minutes reach further back than dates go."]})
    return minutes


class OrphanedForFilter(django_filters.NumberFilter):
    """Objects nothing uses, untouched for at least ``value`` minutes (-1: protection time).

    ``orphans`` maps minutes to the queryset of orphans: the rule the orphan cleanup task
    applies, so the list shows exactly what a cleanup would remove.
    """

    def __init__(self, *args, orphans=None, **kwargs):
        self.orphans = orphans
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        minutes = orphan_minutes(value, self.field_name or "orphaned_for")
        return qs.filter(pk__in=self.orphans(minutes).values("pk"))


# --- ordering ------------------------------------------------------------------------------------
# Fields whose order would reveal a secret (or a secret-bearing argument) one comparison at a
# time. They stay in the documented ``ordering`` enum (the contract lists them) but are refused.
SECRET_ORDERING_FIELDS = frozenset(
    {
        "password",
        "proxy_password",
        "client_key",
        "username",
        "proxy_username",
        "enc_args",
        "enc_kwargs",
    }
)


class OrderingFilter(django_filters.OrderingFilter):
    """``?ordering=-name,pulp_created`` over declared fields; secret fields answer 400."""

    def filter(self, qs, value):
        refused = [v for v in value or () if v.lstrip("-") in SECRET_ORDERING_FIELDS]
        if refused:
            raise ValidationError(
                {"ordering": [f"Ordering by {refused[0].lstrip('-')!r} is not allowed."]}
            )
        return super().filter(qs, value)


# The fields every Pulp object can be ordered by.
COMMON_ORDERING = ("pk", "pulp_id", "pulp_created", "pulp_last_updated")


def ordering_fields(model: type[models.Model]) -> list[str]:
    """Every plain (non-relation) concrete field of ``model`` plus ``pk``: ``ordering`` values."""
    names = {"pk"}
    names.update(f.name for f in model._meta.concrete_fields if not f.is_relation)
    return sorted(names)


def ordering_filter(model: type[models.Model], fields: Iterable[str | tuple[str, str]] = ()):
    """``?ordering=`` over ``fields`` (default: every plain field of ``model`` and ``pk``).

    A field is a name, or ``(model field, ordering name)`` when the API names it differently.
    """
    pairs = [f if isinstance(f, tuple) else (f, f) for f in fields or ordering_fields(model)]
    return OrderingFilter(fields=pairs)


# --- pulp_type -----------------------------------------------------------------------------------
class InstalledTypes(BaseChoiceIterator):
    """``pulp_type`` values of the detail models registered for a master model, read lazily.

    Read when a request or the schema generator first needs them, so a type a plugin (or another
    part of core) registers later than this module is imported still appears. A detail model
    with ``TYPE_FILTERABLE = False`` is left out (the interface we match omits it).
    """

    def __init__(self, master: type) -> None:
        self.master = master

    def __iter__(self) -> Iterator[tuple[str, str]]:
        names = sorted(
            {
                m.get_pulp_type()
                for m in self.master.detail_models()
                if getattr(m, "TYPE_FILTERABLE", True)
            }
        )
        return iter([(n, n) for n in names])


class PulpTypeFilter(django_filters.ChoiceFilter):
    """``pulp_type``: one of the installed detail types of ``master``."""

    def __init__(self, master: type, **kwargs) -> None:
        kwargs.setdefault("field_name", "pulp_type")
        super().__init__(choices=InstalledTypes(master), **kwargs)


class PulpTypeInFilter(django_filters.BaseInFilter, PulpTypeFilter):
    """``pulp_type__in``: comma-separated installed detail types of ``master``."""

    def __init__(self, master: type, **kwargs) -> None:
        super().__init__(master, lookup_expr="in", **kwargs)


# --- the filterset base --------------------------------------------------------------------------
# (filterset class, model listed) -> the form class django-filter would build for it.
_FORM_CLASSES: dict[tuple[type, type], type] = {}


class BaseFilterSet(RestFilterSet):
    """Filters every Pulp list has (``pulp_id__in``, ``pulp_href__in``, ``q``), and the mapping
    from ``Meta.fields`` lookups to Pulp's filter types."""

    pulp_id__in = UUIDInFilter(field_name="pk", lookup_expr="in")
    pulp_href__in = HrefInFilter(field_name="pk")
    q = django_filters.CharFilter(method="filter_q")

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
    }

    def get_form_class(self):
        """django-filter's form class, built once per filterset class and model.

        django-filter builds it on every request, a form field (with its label) per declared
        filter: a fifth of a list request's CPU for the tasks/ filters. The fields depend only on
        the filter definitions and the model, except for filters that pick their choices from
        the request (model choice filters), which keep the per-request build.
        """
        if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
            return super().get_form_class()
        key = (type(self), self.queryset.model)
        form_class = _FORM_CLASSES.get(key)
        if form_class is None:
            form_class = _FORM_CLASSES[key] = super().get_form_class()
        return form_class

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        """``ne`` is ``exact`` excluded; the rest is django-filter's mapping plus ours."""
        if lookup_expr == "ne":
            made = super().filter_for_field(field, field_name, "exact")
            made.exclude = True
            return made
        return super().filter_for_field(field, field_name, lookup_expr)

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        if lookup_type == "isnull":
            return StrictBooleanFilter, {}
        if lookup_type in ("regex", "iregex"):
            return RegexFilter, {}
        if lookup_type == "range" and isinstance(field, models.DateTimeField):
            return DateTimeRangeFilter, {}
        if lookup_type == "range" and isinstance(field, (models.IntegerField, models.FloatField)):
            return NumberInRangeFilter, {}
        if lookup_type == "in" and isinstance(field, (models.CharField, models.TextField)):
            return CharInFilter, {}
        return super().filter_for_lookup(field, lookup_type)

    def filter_q(self, qs, name, value):
        """A small boolean expression language over this filterset's own filters."""
        from pulpcore.app.q_expression import parse_q

        try:
            expr = parse_q(value)
        except ValueError as exc:
            raise ValidationError({"q": [str(exc)]})
        return qs.filter(expr.to_q(self, qs)).distinct()

    def q_for(self, name: str, value: str, qs) -> Q:
        """Q for one filter of this set, used by the ``q`` expression evaluator."""
        if name in ("q", "ordering") or name not in self.base_filters:
            raise ValidationError({"q": [f"Filter '{name}' is not allowed in q."]})
        sub = type(self)(data={name: value}, queryset=qs.model.objects.all(), request=self.request)
        if not sub.is_valid():
            raise ValidationError({"q": [str(sub.errors)]})
        return Q(pk__in=sub.qs.values("pk"))
