"""Importers (how to map incoming repositories) and the imports they ran."""

from django.db import models

from pulpcore.app.models.base import BaseModel, MasterModel
from pulpcore.app.models.task import Task, TaskGroup


class Importer(MasterModel):
    """A named import configuration; detail types say which format they read."""

    name = models.TextField(unique=True)


class PulpImporter(Importer):
    """Imports Pulp export tarballs; ``repo_mapping`` renames source repositories."""

    TYPE = "pulp"

    repo_mapping = models.JSONField(default=dict)


class PulpImport(BaseModel):
    """One run of a PulpImporter: its parameters and the task (and task group) that ran it."""

    importer = models.ForeignKey(PulpImporter, on_delete=models.CASCADE, related_name="imports")
    params = models.JSONField(default=dict)
    task = models.ForeignKey(Task, null=True, on_delete=models.SET_NULL, related_name="+")
    task_group = models.ForeignKey(
        TaskGroup, null=True, on_delete=models.SET_NULL, related_name="+"
    )
