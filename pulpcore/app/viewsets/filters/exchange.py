"""Filtersets of exporters and importers (the site-to-site exchange)."""

from __future__ import annotations

from pulpcore.app.filters import NAME_FILTER_OPTIONS, BaseFilterSet, ordering_filter
from pulpcore.app.models import Exporter, FilesystemExporter, Importer, PulpExporter, PulpImporter


class ExporterFilter(BaseFilterSet):
    ordering = ordering_filter(Exporter)

    class Meta:
        model = Exporter
        fields = {"name": NAME_FILTER_OPTIONS}


class PulpExporterFilter(ExporterFilter):
    ordering = ordering_filter(PulpExporter)

    class Meta:
        model = PulpExporter
        fields = {"name": NAME_FILTER_OPTIONS}


class FilesystemExporterFilter(ExporterFilter):
    ordering = ordering_filter(FilesystemExporter)

    class Meta:
        model = FilesystemExporter
        fields = {"name": NAME_FILTER_OPTIONS}


class ImporterFilter(BaseFilterSet):
    ordering = ordering_filter(Importer)

    class Meta:
        model = Importer
        fields = {"name": NAME_FILTER_OPTIONS}


class PulpImporterFilter(ImporterFilter):
    class Meta:
        model = PulpImporter
        fields = {"name": NAME_FILTER_OPTIONS}
