"""Tasks, their progress, the resources they reserve, task groups and workers."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.fields import ArrayField
from django.db import models

from pulpcore.app.models.base import BaseModel
from pulpcore.app.models.fields import EncryptedJSONField
from pulpcore.tasking.exceptions import TaskCanceled

TASK_STATES = ("waiting", "skipped", "running", "completed", "failed", "canceled", "canceling")
TASK_FINAL_STATES = ("skipped", "completed", "failed", "canceled")
TASK_INCOMPLETE_STATES = ("waiting", "running", "canceling")


class Worker(BaseModel):
    """A running ``pulpcore-worker`` process (or the resource-manager), kept alive by heartbeats."""

    name = models.TextField(db_index=True, unique=True)
    last_heartbeat = models.DateTimeField(auto_now=True)
    versions = models.JSONField(default=dict)
    # True for the resource-manager's row, which status/ and workers/ do not list as a worker.
    resource_manager = models.BooleanField(default=False)
    gracefully_stopped = models.BooleanField(default=False)


class TaskGroup(BaseModel):
    """Tasks dispatched together, reported as one unit."""

    description = models.TextField()
    all_tasks_dispatched = models.BooleanField(default=False)


class Task(BaseModel):
    """A unit of asynchronous work, recorded in PostgreSQL before any worker sees it."""

    state = models.TextField(
        choices=[(s, s) for s in TASK_STATES], default="waiting", db_index=True
    )
    name = models.TextField()
    logging_cid = models.TextField(db_index=True, default="")
    unblocked_at = models.DateTimeField(null=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    error = models.JSONField(null=True)
    # Arguments are encrypted at rest: a remote update carries the new password in them.
    enc_args = EncryptedJSONField(null=True)
    enc_kwargs = EncryptedJSONField(null=True)
    worker = models.ForeignKey(Worker, null=True, related_name="tasks", on_delete=models.SET_NULL)
    parent_task = models.ForeignKey(
        "self", null=True, related_name="child_tasks", on_delete=models.SET_NULL
    )
    task_group = models.ForeignKey(
        TaskGroup, null=True, related_name="tasks", on_delete=models.SET_NULL
    )
    # Exclusive resources as-is, shared ones prefixed with "shared:", as Pulp records them.
    reserved_resources_record = ArrayField(models.TextField(), null=True)
    versions = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        "auth.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["pulp_created"])]
        permissions = [("manage_roles_task", "Can manage role assignments on task")]

    # ``args``/``kwargs`` read and write the encrypted fields (also as create() keywords).
    @property
    def args(self) -> list | None:
        return self.enc_args

    @args.setter
    def args(self, value: list | None) -> None:
        self.enc_args = value

    @property
    def kwargs(self) -> dict | None:
        return self.enc_kwargs

    @kwargs.setter
    def kwargs(self, value: dict | None) -> None:
        self.enc_kwargs = value

    @property
    def exclusive_resources(self) -> list[str]:
        return [r for r in self.reserved_resources_record or [] if not r.startswith("shared:")]

    @property
    def shared_resources(self) -> list[str]:
        return [
            r[len("shared:") :]
            for r in self.reserved_resources_record or []
            if r.startswith("shared:")
        ]


class ProgressReport(BaseModel):
    """Done/total counters a task updates so users can watch long work."""

    message = models.TextField()
    code = models.TextField()
    state = models.TextField(default="waiting")
    total = models.IntegerField(null=True)
    done = models.IntegerField(default=0)
    suffix = models.TextField(null=True)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="progress_reports")

    def save(self, *args, **kwargs):
        if self.task_id is None:
            from pulpcore.tasking.context import current_task

            task = current_task()
            if task is not None:
                self.task = task
        if self.task_id is None:
            return None  # outside a task there is nobody to report to
        return super().save(*args, **kwargs)

    def increase_by(self, count: int) -> None:
        """Add ``count`` to ``done`` atomically in the database."""
        self.done += count
        if self.pk and self.task_id:
            type(self).objects.filter(pk=self.pk).update(done=models.F("done") + count)

    def increment(self) -> None:
        self.increase_by(1)

    def __enter__(self) -> "ProgressReport":
        self.state = "running"
        self.save()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.state = (
            "completed"
            if exc_type is None
            else ("canceled" if issubclass(exc_type, TaskCanceled) else "failed")
        )
        self.save()


class GroupProgressReport(BaseModel):
    """Progress counters aggregated over a task group."""

    message = models.TextField()
    code = models.TextField()
    total = models.IntegerField(null=True)
    done = models.IntegerField(default=0)
    suffix = models.TextField(null=True)
    task_group = models.ForeignKey(
        TaskGroup, on_delete=models.CASCADE, related_name="group_progress_reports"
    )


class CreatedResource(BaseModel):
    """An object a task created (repository version, publication, artifact...)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="created_resources")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.UUIDField()
    content_object = GenericForeignKey("content_type", "object_id")
