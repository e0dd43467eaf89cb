"""``pulpcore-manager release-dead-workers``: free what dead workers still hold.

Workers and the resource-manager do this on their own every few seconds; the command is for when
nothing is running (e.g. all workers are down) or to act on one worker by name. A running task of
a dead worker becomes ``failed`` with a readable reason (``canceled`` if it was being canceled),
which releases its resources. A worker that still looks alive is left alone unless ``--force``.
"""

from django.core.management.base import BaseCommand, CommandError

from pulpcore.app.models import Task, Worker
from pulpcore.tasking import pg, recovery


class Command(BaseCommand):
    help = "Fail the running tasks of dead workers so their resources are released."

    def add_arguments(self, parser):
        parser.add_argument("--worker", help="only this worker (name as in workers/)")
        parser.add_argument(
            "--force", action="store_true", help="act on --worker even if it looks alive"
        )
        parser.add_argument("--dry-run", action="store_true", help="only show what would happen")

    def handle(self, *args, **options):
        name = options.get("worker")
        if name:
            worker = Worker.objects.filter(name=name).first()
            if worker is None:
                raise CommandError(f"No worker named {name!r}.")
            candidates = [worker]
        else:
            candidates = list(
                Worker.objects.filter(tasks__state__in=("running", "canceling")).distinct()
            )
        released = 0
        for worker in candidates:
            tasks = list(
                Task.objects.filter(worker=worker, state__in=("running", "canceling")).values_list(
                    "pk", flat=True
                )
            )
            dead = recovery.worker_is_dead(worker)
            if not dead and not (name and options["force"]):
                self.stdout.write(
                    f"worker {worker.name}: alive (last heartbeat "
                    f"{worker.last_heartbeat.isoformat()}), left alone"
                )
                continue
            if options["dry_run"]:
                self.stdout.write(f"worker {worker.name}: would release tasks {tasks}")
                continue
            reason = (
                f"Worker {worker.name} was declared dead by an operator "
                "(pulpcore-manager release-dead-workers); the task was marked failed."
            )
            ids = recovery.fail_tasks_of(worker, reason)
            released += len(ids)
            self.stdout.write(f"worker {worker.name}: released tasks {[str(i) for i in ids]}")
        orphans = recovery.fail_tasks_of(None, "The worker running this task no longer exists.")
        released += len(orphans)
        if released:
            pg.notify("released")
        self.stdout.write(f"{released} task(s) released.")
