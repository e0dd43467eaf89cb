"""Encrypt remote credentials and task arguments at rest with the DB_ENCRYPTION_KEY key file.

Remote ``password``, ``proxy_password`` and ``client_key`` keep their text columns; their clear
values are replaced by Fernet tokens. Task ``args``/``kwargs`` (jsonb) move to text columns
``enc_args``/``enc_kwargs`` holding tokens of the JSON text. Rows are converted with plain SQL in
batches, so the historical models (which would try to decrypt clear text) are not involved.
"""

import json

from django.db import migrations

import pulpcore.app.models.fields

REMOTE_SECRETS = ("password", "proxy_password", "client_key")
BATCH = 1000


def _is_token(value: str) -> bool:
    from pulpcore.app import crypto

    try:
        crypto.decrypt(value)
    except (crypto.InvalidToken, ValueError, TypeError):
        return False
    return True


def encrypt_remotes(apps, schema_editor):
    from pulpcore.app import crypto

    cursor = schema_editor.connection.cursor()
    cols = ", ".join(REMOTE_SECRETS)
    cursor.execute(f"SELECT pulp_id, {cols} FROM core_remote")
    for row in cursor.fetchall():
        pk, values = row[0], row[1:]
        new = [v if v is None or _is_token(v) else crypto.encrypt(v) for v in values]
        if list(new) != list(values):
            sets = ", ".join(f"{c} = %s" for c in REMOTE_SECRETS)
            cursor.execute(f"UPDATE core_remote SET {sets} WHERE pulp_id = %s", [*new, pk])


def decrypt_remotes(apps, schema_editor):
    from pulpcore.app import crypto

    cursor = schema_editor.connection.cursor()
    cols = ", ".join(REMOTE_SECRETS)
    cursor.execute(f"SELECT pulp_id, {cols} FROM core_remote")
    for row in cursor.fetchall():
        pk, values = row[0], row[1:]
        new = [crypto.decrypt(v) if v is not None and _is_token(v) else v for v in values]
        sets = ", ".join(f"{c} = %s" for c in REMOTE_SECRETS)
        cursor.execute(f"UPDATE core_remote SET {sets} WHERE pulp_id = %s", [*new, pk])


def encrypt_task_args(apps, schema_editor):
    from pulpcore.app import crypto

    cursor = schema_editor.connection.cursor()
    cursor.execute("SELECT pulp_id, args::text, kwargs::text FROM core_task")
    while rows := cursor.fetchmany(BATCH):
        with schema_editor.connection.cursor() as update:
            for pk, args, kwargs in rows:
                update.execute(
                    "UPDATE core_task SET enc_args = %s, enc_kwargs = %s WHERE pulp_id = %s",
                    [
                        None if args is None else crypto.encrypt(args),
                        None if kwargs is None else crypto.encrypt(kwargs),
                        pk,
                    ],
                )


def decrypt_task_args(apps, schema_editor):
    from pulpcore.app import crypto

    cursor = schema_editor.connection.cursor()
    cursor.execute("SELECT pulp_id, enc_args, enc_kwargs FROM core_task")
    while rows := cursor.fetchmany(BATCH):
        with schema_editor.connection.cursor() as update:
            for pk, args, kwargs in rows:
                update.execute(
                    "UPDATE core_task SET args = %s::jsonb, kwargs = %s::jsonb WHERE pulp_id = %s",
                    [
                        None if args is None else json.dumps(json.loads(crypto.decrypt(args))),
                        None if kwargs is None else json.dumps(json.loads(crypto.decrypt(kwargs))),
                        pk,
                    ],
                )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_content_resolve_triggers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="remote",
            name="client_key",
            field=pulpcore.app.models.fields.EncryptedTextField(null=True),
        ),
        migrations.AlterField(
            model_name="remote",
            name="password",
            field=pulpcore.app.models.fields.EncryptedTextField(null=True),
        ),
        migrations.AlterField(
            model_name="remote",
            name="proxy_password",
            field=pulpcore.app.models.fields.EncryptedTextField(null=True),
        ),
        migrations.RunPython(encrypt_remotes, decrypt_remotes, elidable=False),
        migrations.AddField(
            model_name="task",
            name="enc_args",
            field=pulpcore.app.models.fields.EncryptedJSONField(null=True),
        ),
        migrations.AddField(
            model_name="task",
            name="enc_kwargs",
            field=pulpcore.app.models.fields.EncryptedJSONField(null=True),
        ),
        migrations.RunPython(encrypt_task_args, decrypt_task_args, elidable=False),
        # The clear-text columns leave the model but stay in the table, emptied: during a rolling
        # upgrade the previous release still runs (and selects every task column) between this
        # migration and its restart. A later release drops them.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="task", name="args"),
                migrations.RemoveField(model_name="task", name="kwargs"),
            ],
            database_operations=[
                migrations.RunSQL(
                    "UPDATE core_task SET args = NULL, kwargs = NULL"
                    " WHERE args IS NOT NULL OR kwargs IS NOT NULL",
                    migrations.RunSQL.noop,
                ),
            ],
        ),
    ]
