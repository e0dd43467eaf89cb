"""Migration helpers for plugins.

``notify_content_app(*tables)`` returns a migration operation that makes writes to ``tables``
invalidate the content app's resolution cache (in every content-app process), the way writes to
core's distribution and guard tables do. Use it for any table the content app reads through a
distribution, such as a content guard type's own table.
"""

from django.db import migrations

# Must stay equal to pulpcore.content.resolve.CHANNEL / TRIGGER_FUNCTION (a unit test checks):
# migrations are frozen, so the names are spelled out rather than imported.
CHANNEL = "pulp_content_changed"
TRIGGER_FUNCTION = "pulp_content_notify_v1"

_FUNCTION_SQL = (
    f"CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger "
    f"LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
)


def notify_content_app(*tables: str) -> migrations.RunSQL:
    """Statement-level NOTIFY triggers on ``tables`` (reversible)."""
    forward = [_FUNCTION_SQL] + [
        f"CREATE OR REPLACE TRIGGER {TRIGGER_FUNCTION} "
        f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_FUNCTION}()"
        for table in tables
    ]
    backward = [f"DROP TRIGGER IF EXISTS {TRIGGER_FUNCTION} ON {table}" for table in tables]
    return migrations.RunSQL(forward, backward)
