"""Request path → what to serve, in one SQL round trip, remembered until the database changes.

A content request is resolved by a single statement that finds the distribution (longest base path
among the request's prefixes), what it serves (publication, latest version of a repository, or a
fixed version, preferring a complete publication of that version), and the file at the relative
path (published metadata, published artifact, then, for pass-through publications or plain
versions, the content artifacts of the version).

The package is split by concern:

- :mod:`.results` -- what a resolution returns (``Distro``, ``Match``, ``Resolution``, ...);
- :mod:`.sql` -- the statements and the functions that run them in a database thread
  (``resolve_sync``, ``on_demand_sync``); the distribution is read from the row in one place,
  ``sql.distro_from_row``;
- :mod:`.pool` -- ``DB``, the thread pool that runs those functions off the event loop;
- :mod:`.cache` -- ``ResolutionCache``, dropped on every PostgreSQL NOTIFY sent by the triggers
  that migration ``core.0003_content_resolve_triggers`` installs. Without its LISTEN connection
  (triggers missing, database restarting) the cache is simply not used, so correctness never
  depends on it.
"""

from pulpcore.content.resolve.cache import (
    CHANNEL,
    TRIGGER_FUNCTION,
    WATCHED_TABLES,
    ResolutionCache,
    triggers_present,
)
from pulpcore.content.resolve.pool import DB
from pulpcore.content.resolve.results import (
    Distro,
    Entry,
    Match,
    OnDemandInfo,
    RemoteSource,
    Resolution,
)
from pulpcore.content.resolve.sql import (
    BASE_PATHS_SQL,
    LISTING_SQL,
    ON_DEMAND_SQL,
    RESOLVE_SQL,
    artifact_abspath,
    distro_from_row,
    on_demand_sync,
    resolve_sync,
)

__all__ = [
    "BASE_PATHS_SQL",
    "CHANNEL",
    "DB",
    "LISTING_SQL",
    "ON_DEMAND_SQL",
    "RESOLVE_SQL",
    "TRIGGER_FUNCTION",
    "WATCHED_TABLES",
    "Distro",
    "Entry",
    "Match",
    "OnDemandInfo",
    "RemoteSource",
    "Resolution",
    "ResolutionCache",
    "artifact_abspath",
    "distro_from_row",
    "on_demand_sync",
    "resolve_sync",
    "triggers_present",
]
