"""Filterset of chunked uploads."""

from __future__ import annotations

from pulpcore.app.filters import COMMON_ORDERING, BaseFilterSet, ordering_filter
from pulpcore.app.models import Upload


class UploadFilter(BaseFilterSet):
    """Uploads by size."""

    ordering = ordering_filter(Upload, fields=[*COMMON_ORDERING, "size"])

    class Meta:
        model = Upload
        fields = {"size": ["exact", "gt", "lt", "range"]}
