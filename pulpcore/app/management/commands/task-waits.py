"""``pulpcore-manager task-waits``: why is each waiting task waiting?

For every waiting task (oldest first) it prints the resources it waits for and, for each, the
task that holds or queues before it on that resource, with that task's state and worker and
whether the worker is alive. Tasks already handed to a worker (rq system) are marked as such.
"""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from pulpcore.app.models import Task, Worker
from pulpcore.tasking import recovery, scheduler


class Command(BaseCommand):
    help = "Show each waiting task and what it waits for (resource, holder task, its worker)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        rows = scheduler._incomplete_rows()
        waits = scheduler.blockers(rows)
        by_pk = {row["pk"]: row for row in rows}
        names = dict(Task.objects.filter(pk__in=by_pk).values_list("pk", "name"))
        workers = {w.pk: w for w in Worker.objects.filter(pk__in={r["worker_id"] for r in rows})}
        now = timezone.now()
        report = []
        for row in rows:
            if row["state"] != "waiting":
                continue
            entry = {
                "task": str(row["pk"]),
                "name": names.get(row["pk"]),
                "resources": row["reserved_resources_record"] or [],
            }
            if row["unblocked_at"] is not None:
                entry["status"] = (
                    f"ready since {row['unblocked_at'].isoformat()}: handed to the rq queue, "
                    "waiting for an idle worker"
                )
            elif not waits.get(row["pk"]):
                entry["status"] = "ready: will start as soon as a worker is idle"
            else:
                entry["status"] = "blocked"
                entry["waits_for"] = []
                for resource, holder in waits[row["pk"]]:
                    worker = workers.get(holder["worker_id"])
                    item = {
                        "resource": resource,
                        "held_by_task": str(holder["pk"]),
                        "holder_state": holder["state"],
                        "holder_name": names.get(holder["pk"]),
                    }
                    if worker is not None:
                        dead = recovery.worker_is_dead(worker, now)
                        item["worker"] = worker.name
                        item["worker_alive"] = not dead
                        item["worker_last_heartbeat"] = worker.last_heartbeat.isoformat()
                    entry["waits_for"].append(item)
            report.append(entry)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        if not report:
            self.stdout.write("No waiting tasks.")
            return
        for entry in report:
            self.stdout.write(f"task {entry['task']} ({entry['name']}): {entry['status']}")
            for item in entry.get("waits_for", []):
                line = (
                    f"    waits for {item['resource']} held by task {item['held_by_task']} "
                    f"({item['holder_state']}, {item['holder_name']})"
                )
                if "worker" in item:
                    alive = "alive" if item["worker_alive"] else "DEAD"
                    line += (
                        f" on worker {item['worker']} [{alive}, last heartbeat "
                        f"{item['worker_last_heartbeat']}]"
                    )
                self.stdout.write(line)
