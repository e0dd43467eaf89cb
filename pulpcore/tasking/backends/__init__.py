"""How a ready task reaches a worker: ``rq`` (resource-manager + rq queue) or ``postgres``."""
