"""``pulpcore-manager rotate-db-key``: re-encrypt every encrypted field with the first key.

Zero-downtime rotation, as Pulp documents it: add the new key at the bottom of the
DB_ENCRYPTION_KEY file and restart every service (they can now read both); swap the two lines and
restart again (new writes use the new key); run this command; remove the old key (second line)
and restart a last time. Each value is rewritten only if it is still the token this command read,
so a value another process changes meanwhile is never overwritten.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from pulpcore.app import crypto
from pulpcore.app.models.fields import EncryptedJSONField, EncryptedTextField

BATCH = 500


def encrypted_columns() -> list[tuple[str, str, str]]:
    """(table, primary-key column, encrypted column) for every encrypted field of every model."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            if isinstance(field, EncryptedTextField | EncryptedJSONField):
                found.append((model._meta.db_table, model._meta.pk.column, field.column))
    return found


class Command(BaseCommand):
    help = (
        "Re-encrypt the encrypted database fields (remote credentials, task arguments) with the "
        "first key of the DB_ENCRYPTION_KEY file; the other keys must still decrypt old values."
    )

    def handle(self, *args, **options):
        crypto.reset()  # read the key file as it is now, not as this process first saw it
        try:
            cipher = crypto.fernet()
        except crypto.KeyFileError as exc:
            raise CommandError(str(exc))
        total = 0
        for table, pk, column in encrypted_columns():
            done = self._rotate(cipher, table, pk, column)
            self.stdout.write(f"{table}.{column}: {done} value(s) re-encrypted")
            total += done
        self.stdout.write(f"Done: {total} value(s) now use the first key.")

    def _rotate(self, cipher, table: str, pk: str, column: str) -> int:
        """Walk the table by primary key in batches (keyset), one transaction per batch."""
        qn = connection.ops.quote_name
        base = f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} WHERE {qn(column)} IS NOT NULL"
        order = f" ORDER BY {qn(pk)} LIMIT {BATCH}"
        update = (
            f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s AND {qn(column)} = %s"
        )
        done = 0
        with connection.cursor() as cursor:
            cursor.execute(base + order)
            rows = cursor.fetchall()
            while rows:
                with transaction.atomic():
                    for key, token in rows:
                        try:
                            new = cipher.rotate(token.encode()).decode()
                        except crypto.InvalidToken:
                            raise CommandError(
                                f"{table}.{column} of {key} cannot be decrypted with any key of "
                                "the DB_ENCRYPTION_KEY file; keep the old key in the file"
                            )
                        cursor.execute(update, [new, key, token])
                        done += cursor.rowcount
                cursor.execute(base + f" AND {qn(pk)} > %s" + order, [rows[-1][0]])
                rows = cursor.fetchall()
        return done
