"""Filtering: declared filters only, so a typo in a query parameter is a 400, not ignored."""

import django_filters
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

from pulpcore.app import util

# Query parameters every list accepts besides its filters.
ALWAYS_ALLOWED = {"limit", "offset", "fields", "exclude_fields", "format", "minimal"}


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


def href_pk(href: str, model: type) -> object:
    """Primary key named by ``href``, which must point at ``model`` or a master/detail relative."""
    from urllib.parse import urlparse

    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlparse(str(href)).path)
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
        # e.g. repository versions, addressed by number below their repository
        return util.resolve_href(href).pk
    pk = match.kwargs.get(url_kwarg)
    if pk is None or not util.is_uuid(pk):
        raise util.HrefError(f"URI {href} not found.")
    return pk


class UUIDInFilter(django_filters.BaseInFilter, django_filters.UUIDFilter):
    pass


class BaseFilterSet(django_filters.FilterSet):
    """Filters every Pulp list has: ``pulp_id__in``, ``pulp_href__in``, ``q``."""

    pulp_id__in = UUIDInFilter(field_name="pk", lookup_expr="in")
    pulp_href__in = HrefInFilter(field_name="pk")
    q = django_filters.CharFilter(method="filter_q")

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
        if name == "q" or name not in self.base_filters:
            raise ValidationError({"q": [f"Filter '{name}' is not allowed in q."]})
        sub = type(self)(data={name: value}, queryset=qs.model.objects.all(), request=self.request)
        if not sub.is_valid():
            raise ValidationError({"q": [str(sub.errors)]})
        return Q(pk__in=sub.qs.values("pk"))
