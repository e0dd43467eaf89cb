"""Filters of the file plugin's lists."""

import django_filters

from pulp_file.app.models import FileContent
from pulpcore.plugin.filters import ContentFilter, ordering_filter


class FileContentFilter(ContentFilter):
    """Files by relative path and sha256, plus the common content filters."""

    # The API calls the digest ``sha256``; the model field is ``digest``.
    sha256 = django_filters.CharFilter(field_name="digest")
    ordering = ordering_filter(FileContent)

    class Meta:
        model = FileContent
        fields = {"relative_path": ["exact"]}
