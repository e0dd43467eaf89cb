"""Filterset of chunked uploads."""

from __future__ import annotations

from pulpcore.app.filters import BaseFilterSet, OrderingFilter
from pulpcore.app.models import Upload


class UploadFilter(BaseFilterSet):
    """Uploads by size."""

    ordering = OrderingFilter(
        fields=(
            ("pk", "pk"),
            ("pulp_id", "pulp_id"),
            ("pulp_created", "pulp_created"),
            ("pulp_last_updated", "pulp_last_updated"),
            ("size", "size"),
        )
    )

    class Meta:
        model = Upload
        fields = {"size": ["exact", "gt", "lt", "range"]}
