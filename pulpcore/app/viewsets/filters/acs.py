"""Filterset of alternate content sources."""

from __future__ import annotations

from pulpcore.app.filters import NAME_FILTER_OPTIONS, BaseFilterSet, ordering_filter
from pulpcore.app.models import AlternateContentSource


class AlternateContentSourceFilter(BaseFilterSet):
    ordering = ordering_filter(AlternateContentSource)

    class Meta:
        model = AlternateContentSource
        fields = {"name": NAME_FILTER_OPTIONS}
