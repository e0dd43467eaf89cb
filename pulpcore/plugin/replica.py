"""What plugins subclass to make their distributions replicable from an upstream Pulp.

A plugin ships ``<app>/replica.py`` with ``REPLICATORS = [MyReplicator]``; see
``pulpcore.app.tasks.replica`` for what the replication does with them.
"""

from pulpcore.app.tasks.replica import Replicator  # noqa: F401

__all__ = ["Replicator"]
