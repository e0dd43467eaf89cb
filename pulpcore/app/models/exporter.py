"""Exporters (where and what to export) and the exports they made.

Like Pulp, an exporter is a master model typed by ``pulp_type`` (``core.pulp`` writes Pulp's
tarball format, ``core.filesystem`` writes a publication's files as a plain tree). An export is
the record of one run: its parameters, the task that made it and the files it wrote. Deleting an
exporter deletes those records but never the files on disk.
"""

from django.db import models

from pulpcore.app.models.base import BaseModel, MasterModel
from pulpcore.app.models.repository import Repository
from pulpcore.app.models.task import Task


class Exporter(MasterModel):
    """A named export target; detail types say what is exported and how."""

    name = models.TextField(unique=True)


class PulpExporter(Exporter):
    """Exports repository versions into Pulp's import/export tarball format under ``path``."""

    TYPE = "pulp"

    path = models.TextField()
    repositories = models.ManyToManyField(Repository, related_name="+")
    last_export = models.ForeignKey(
        "core.PulpExport", null=True, on_delete=models.SET_NULL, related_name="+"
    )


class FilesystemExporter(Exporter):
    """Writes the files of a publication or repository version as a directory tree."""

    TYPE = "filesystem"
    WRITE, HARDLINK, SYMLINK = "write", "hardlink", "symlink"
    METHOD_CHOICES = ((WRITE, "write"), (HARDLINK, "hardlink"), (SYMLINK, "symlink"))

    path = models.TextField()
    method = models.TextField(choices=METHOD_CHOICES, default=WRITE)


class ExportBase(BaseModel):
    """Fields every export record has: what was asked, which task ran, what it covered."""

    params = models.JSONField(null=True)
    task = models.ForeignKey(Task, null=True, on_delete=models.SET_NULL, related_name="+")
    # Hrefs of the repository versions / publication the export covered.
    exported_resources = models.JSONField(default=list)

    class Meta:
        abstract = True


class PulpExport(ExportBase):
    """One run of a PulpExporter: the tarball (or its pieces) and its table of contents."""

    exporter = models.ForeignKey(PulpExporter, on_delete=models.CASCADE, related_name="exports")
    # Pulp's {"<file path>": "<sha256>"} for every file written, and {"file": toc, "sha256": ...}.
    output_file_info = models.JSONField(null=True)
    toc_info = models.JSONField(null=True)
    # Repository-version pks this export covered, so the next incremental export can start here.
    version_ids = models.JSONField(default=list)


class FilesystemExport(ExportBase):
    """One run of a FilesystemExporter."""

    exporter = models.ForeignKey(
        FilesystemExporter, on_delete=models.CASCADE, related_name="exports"
    )
