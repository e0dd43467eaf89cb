"""NOTIFY triggers that keep the content app's resolution cache honest.

Every statement that changes a core table the content app reads to resolve a request sends
``NOTIFY pulp_content_changed``; each content-app process LISTENs and drops its cache. They used
to be created by the content app at start, which needed DDL rights on core tables; the schema is
now changed only by migrations. ``CREATE OR REPLACE`` keeps this safe on databases where a
content app already created them. The table list is frozen here on purpose (a migration must not
follow code); ``pulpcore.content.resolve.cache.WATCHED_TABLES`` lists the same tables and a test
checks they agree. Guard types' own tables get theirs from their own migrations.
"""

from django.db import migrations

from pulpcore.plugin.migrations import notify_content_app

TABLES = (
    "core_distribution",
    "core_publication",
    "core_repositoryversion",
    "core_repositorycontent",
    "core_publishedartifact",
    "core_publishedmetadata",
    "core_contentartifact",
    "core_remoteartifact",
    "core_artifact",
    "core_contentguard",
)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_content_guards"),
    ]

    operations = [notify_content_app(*TABLES)]
